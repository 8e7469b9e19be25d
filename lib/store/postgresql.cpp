#include "rsp/store/postgresql.hpp"

#include <algorithm>
#include <charconv>
#include <mutex>
#include <pqxx/pqxx>

namespace rsp::store {

namespace {

/// The key of the advisory lock every transaction takes (any constant that
/// no other program on the same database uses; "rspdb" in ASCII).
constexpr std::int64_t kTransactionLockKey = 0x72737064'62;

// Type OIDs of the built-in types the engine reads as numbers or bytes.
constexpr pqxx::oid kBoolOid = 16;
constexpr pqxx::oid kByteaOid = 17;
constexpr pqxx::oid kInt8Oid = 20;
constexpr pqxx::oid kInt2Oid = 21;
constexpr pqxx::oid kInt4Oid = 23;
constexpr pqxx::oid kOidOid = 26;
constexpr pqxx::oid kFloat4Oid = 700;
constexpr pqxx::oid kFloat8Oid = 701;
constexpr pqxx::oid kNumericOid = 1700;

DbError::Kind kind_of_sqlstate(const std::string& state) {
  if (state.rfind("23", 0) == 0) return DbError::Kind::Constraint;
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014") return DbError::Kind::Busy;
  if (state.rfind("08", 0) == 0 || state.rfind("28", 0) == 0 || state.rfind("3D", 0) == 0 || state == "57P01")
    return DbError::Kind::Open;
  if (state.rfind("53", 0) == 0 || state.rfind("58", 0) == 0 || state.rfind("XX", 0) == 0) return DbError::Kind::Io;
  return DbError::Kind::Syntax;
}

/// The server's primary message only: its DETAIL line may quote bound values
/// (e.g. the duplicate key), which must never reach a message.
std::string first_line(std::string_view what) {
  auto end = what.find('\n');
  std::string line(what.substr(0, end));
  for (std::string_view prefix : {"ERROR:  ", "FATAL:  "})
    if (line.rfind(prefix, 0) == 0) line.erase(0, prefix.size());
  return line;
}

/// Translates the exception being handled (call only inside a catch block).
unexpected<DbError> current_error(std::string_view what) {
  std::string msg(what);
  msg += ": ";
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return db_error(DbError::Kind::Open, msg + "no connection to the server: " + first_line(e.what()));
  } catch (const pqxx::sql_error& e) {
    return db_error(kind_of_sqlstate(e.sqlstate()), msg + first_line(e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    return db_error(DbError::Kind::Io, msg + "commit outcome unknown: " + first_line(e.what()));
  } catch (const pqxx::usage_error& e) {
    return db_error(DbError::Kind::Misuse, msg + first_line(e.what()));
  } catch (const std::exception& e) {
    return db_error(DbError::Kind::Io, msg + first_line(e.what()));
  } catch (...) {
    return db_error(DbError::Kind::Io, msg + "unknown failure");
  }
}

/// Highest `$n` in `sql` outside quotes (the number of parameters to bind).
int max_parameter(std::string_view sql) {
  int max = 0;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      continue;
    }
    if (c != '$') continue;
    int n = 0;
    std::size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + (sql[j++] - '0');
    if (j > i + 1 && n > max) max = n;
  }
  return max;
}

/// A Value as the text form PostgreSQL parses for the parameter's column
/// type; nullopt is NULL. Blobs use the BYTEA hex form.
std::optional<std::string> to_text(const Value& v) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, r.ptr);
  }
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<Bytes>(&v)) return "\\x" + to_hex(*b);
  return std::nullopt;
}

Value from_field(const pqxx::field& f) {
  if (f.is_null()) return Null{};
  switch (f.type()) {
    case kBoolOid: return static_cast<std::int64_t>(f.c_str()[0] == 't' ? 1 : 0);
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      std::int64_t n = 0;
      std::from_chars(f.c_str(), f.c_str() + f.size(), n);
      return n;
    }
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: {
      double d = 0;
      std::from_chars(f.c_str(), f.c_str() + f.size(), d);
      return d;
    }
    case kByteaOid: {
      const pqxx::binarystring b(f);
      return Bytes(b.data(), b.data() + b.size());
    }
    default: return std::string(f.c_str(), f.size());
  }
}

class PgDatabase;

class PgStatement final : public Statement {
 public:
  PgStatement(PgDatabase& owner, std::string sql)
      : owner_(owner), sql_(std::move(sql)), params_(static_cast<std::size_t>(max_parameter(sql_))) {}
  DbResult<void> bind(int index, const Value& v) override;
  DbResult<bool> step() override;
  Row row() const override;
  int column_count() const override { return ran_ ? static_cast<int>(result_.columns()) : 0; }
  std::int64_t changes() const override { return changes_; }
  DbResult<void> reset() override;

 private:
  PgDatabase& owner_;
  std::string sql_;
  std::vector<std::optional<std::string>> params_;
  pqxx::result result_;
  bool ran_ = false;
  std::size_t next_ = 0;
  std::int64_t changes_ = 0;
};

/// Opens a connection to `url`; errors name the URL with its passwords hidden.
DbResult<std::unique_ptr<pqxx::connection>> connect(const std::string& url);

class PgDatabase final : public Database {
 public:
  PgDatabase(std::unique_ptr<pqxx::connection> conn, std::string url) : conn_(std::move(conn)), url_(std::move(url)) {}
  ~PgDatabase() override {
    if (tx_) abort_transaction();
  }

  std::string_view dialect() const override { return "postgresql"; }

  DbResult<std::unique_ptr<Statement>> prepare(std::string_view sql) override {
    if (sql.find_first_not_of(" \t\r\n;") == std::string_view::npos)
      return db_error(DbError::Kind::Misuse, "prepare: empty statement");
    return std::unique_ptr<Statement>(new PgStatement(*this, std::string(sql)));
  }

  DbResult<void> execute_script(std::string_view sql) override {
    auto lock = lock_connection();
    RSP_TRY_VOID(ensure_connected());
    try {
      const std::string text(sql);
      if (tx_) {
        tx_->exec(text);
      } else {
        pqxx::nontransaction n(*conn_);
        n.exec(text);
      }
    } catch (...) {
      if (tx_) tx_failed_ = true;
      return current_error("script");
    }
    return {};
  }

  DbResult<Transaction> begin() override;

  std::unique_lock<std::recursive_mutex> lock_connection() override {
    return std::unique_lock<std::recursive_mutex>(mu_);
  }

  /// Runs one statement, in the open transaction when there is one.
  DbResult<pqxx::result> exec(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    auto lock = lock_connection();
    std::vector<const char*> raw;
    raw.reserve(params.size());
    for (const auto& p : params) raw.push_back(p ? p->c_str() : nullptr);
    RSP_TRY_VOID(ensure_connected());
    try {
      if (tx_) return tx_->exec_params(sql, pqxx::prepare::make_dynamic_params(raw));
      pqxx::nontransaction n(*conn_);
      return n.exec_params(sql, pqxx::prepare::make_dynamic_params(raw));
    } catch (...) {
      if (tx_) tx_failed_ = true;
      return current_error("statement");
    }
  }

  DbResult<void> commit_transaction() {
    if (!tx_) return db_error(DbError::Kind::Misuse, "transaction already finished");
    if (tx_failed_) {
      // PostgreSQL answers COMMIT of a failed transaction with a rollback;
      // say so instead of reporting success.
      abort_transaction();
      return db_error(DbError::Kind::Misuse, "commit: the transaction was aborted by an earlier error");
    }
    try {
      tx_->commit();
    } catch (...) {
      auto err = current_error("commit");
      abort_transaction();
      return err;
    }
    tx_.reset();
    return {};
  }

  void abort_transaction() noexcept {
    if (!tx_) return;
    try {
      tx_->abort();
    } catch (...) {
      // The server ends the transaction itself when the connection is gone.
    }
    tx_.reset();
    tx_failed_ = false;
  }

  /// Outside a transaction, a connection the server dropped (restart,
  /// failover, outage) is opened again, so service resumes once the server is
  /// back; inside one the failure stands (its work is lost with the
  /// connection, and the transaction fails as a whole).
  DbResult<void> ensure_connected() {
    if (tx_ || conn_->is_open()) return {};
    RSP_TRY(auto fresh, connect(url_));
    conn_ = std::move(fresh);
    return {};
  }

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::string url_;  ///< kept to reconnect; never shown (see redact_url)
  std::unique_ptr<pqxx::work> tx_;
  bool tx_failed_ = false;  ///< a statement of the open transaction failed
  std::recursive_mutex mu_;
};

DbResult<void> PgStatement::bind(int index, const Value& v) {
  if (index < 1 || static_cast<std::size_t>(index) > params_.size())
    return db_error(DbError::Kind::Misuse, "statement has no parameter $" + std::to_string(index));
  params_[static_cast<std::size_t>(index - 1)] = to_text(v);
  return {};
}

DbResult<bool> PgStatement::step() {
  if (!ran_) {
    RSP_TRY(result_, owner_.exec(sql_, params_));
    ran_ = true;
    next_ = 0;
    changes_ = static_cast<std::int64_t>(result_.affected_rows());
  }
  if (next_ >= result_.size()) return false;
  ++next_;
  return true;
}

Row PgStatement::row() const {
  if (!ran_ || next_ == 0 || next_ > result_.size()) return Row();
  const auto r = result_[static_cast<pqxx::result::size_type>(next_ - 1)];
  std::vector<Value> values;
  values.reserve(r.size());
  for (const auto& f : r) values.push_back(from_field(f));
  return Row(std::move(values));
}

DbResult<void> PgStatement::reset() {
  ran_ = false;
  next_ = 0;
  result_ = pqxx::result();
  return {};
}

class PgTransaction final : public Transaction::Impl {
 public:
  PgTransaction(PgDatabase& db, std::unique_lock<std::recursive_mutex> lock) : db_(db), lock_(std::move(lock)) {}
  ~PgTransaction() override { rollback(); }

  DbResult<void> commit() override {
    if (done_) return db_error(DbError::Kind::Misuse, "transaction already finished");
    auto r = db_.commit_transaction();
    finish();
    return r;
  }

  void rollback() noexcept override {
    if (done_) return;
    db_.abort_transaction();
    finish();
  }

 private:
  void finish() {
    done_ = true;
    if (lock_.owns_lock()) lock_.unlock();
  }
  PgDatabase& db_;
  std::unique_lock<std::recursive_mutex> lock_;
  bool done_ = false;
};

DbResult<Transaction> PgDatabase::begin() {
  auto lock = lock_connection();
  if (tx_) return db_error(DbError::Kind::Misuse, "nested transactions are not supported");
  // A connection found broken at BEGIN is opened again once: nothing of the
  // transaction ran yet, so trying again cannot do anything twice.
  for (int attempt = 0;; ++attempt) {
    RSP_TRY_VOID(ensure_connected());
    try {
      tx_ = std::make_unique<pqxx::work>(*conn_);
      tx_->exec("SELECT pg_advisory_xact_lock(" + std::to_string(kTransactionLockKey) + ")");
      break;
    } catch (const pqxx::broken_connection&) {
      auto err = current_error("begin");
      abort_transaction();
      if (attempt > 0) return err;
    } catch (...) {
      auto err = current_error("begin");
      abort_transaction();
      return err;
    }
  }
  return Transaction(std::make_unique<PgTransaction>(*this, std::move(lock)));
}

/// Where the passwords of a URL are: the user info's and every `password=`
/// query parameter's value, as (offset, length).
std::vector<std::pair<std::size_t, std::size_t>> password_spans(std::string_view url) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return out;
  const auto start = scheme + 3;
  const auto end = std::min(url.find_first_of("/?", start), url.size());
  const auto authority = url.substr(start, end - start);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const auto colon = authority.substr(0, at).find(':');
    if (colon != std::string_view::npos && colon + 1 < at) out.emplace_back(start + colon + 1, at - colon - 1);
  }
  if (const auto query = url.find('?', start); query != std::string_view::npos) {
    for (auto pos = query + 1; pos < url.size();) {
      const auto amp = std::min(url.find('&', pos), url.size());
      constexpr std::string_view kKey = "password=";
      if (url.substr(pos, kKey.size()) == kKey && amp > pos + kKey.size())
        out.emplace_back(pos + kKey.size(), amp - pos - kKey.size());
      pos = amp + 1;
    }
  }
  return out;
}

std::vector<std::string> passwords_in(std::string_view url) {
  std::vector<std::string> out;
  for (const auto& [off, len] : password_spans(url)) out.emplace_back(url.substr(off, len));
  return out;
}

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) text.replace(pos, s.size(), "***");
  }
  return text;
}

DbResult<std::unique_ptr<pqxx::connection>> connect(const std::string& url) {
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(url);
    // Notices (e.g. "already exists, skipping") are not for the user's terminal.
    pqxx::nontransaction n(*conn);
    n.exec("SET client_min_messages TO warning");
  } catch (...) {
    DbError e = current_error("open " + redact_url(url)).error();
    return db_error(DbError::Kind::Open, scrub(std::move(e.message), passwords_in(url)));
  }
  return conn;
}

}  // namespace

bool is_postgresql_url(std::string_view where) {
  return where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0;
}

std::string redact_url(std::string_view where) {
  if (!is_postgresql_url(where)) return std::string(where);
  std::string out(where);
  auto spans = password_spans(where);
  // From the back, so earlier offsets stay valid.
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) out.replace(it->first, it->second, "***");
  return out;
}

DbResult<std::unique_ptr<Database>> open_postgresql(const std::string& url) {
  RSP_TRY(auto conn, connect(url));
  return std::unique_ptr<Database>(std::make_unique<PgDatabase>(std::move(conn), url));
}

}  // namespace rsp::store

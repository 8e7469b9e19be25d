#include "rsp/store/postgresql.hpp"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <pqxx/pqxx>

namespace rsp::store {

namespace {

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
  // Class 40, transaction rollback: 40001 serialization_failure, 40P01
  // deadlock_detected (PostgreSQL manual, appendix A, "Error Codes").
  if (state == "40001" || state == "40P01") return DbError::Kind::Conflict;
  if (state == "55P03" || state == "57014") return DbError::Kind::Busy;
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
  } catch (const pqxx::transaction_rollback& e) {
    // libpqxx's class for SQLSTATE class 40 (its sqlstate() may be empty).
    return db_error(DbError::Kind::Conflict, msg + first_line(e.what()));
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

/// One server connection of the pool, and the transaction open on it.
struct PgConnection {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<pqxx::work> tx;
  bool tx_failed = false;  ///< a statement of the open transaction failed

  void abort_transaction() noexcept {
    if (!tx) return;
    try {
      tx->abort();
    } catch (...) {
      // The server ends the transaction itself when the connection is gone.
    }
    tx.reset();
    tx_failed = false;
  }
};

/// A pool of connections, one per thread at work: a transaction holds its
/// connection from begin() to commit or rollback, and every statement the
/// same thread runs meanwhile goes into it; a statement outside a
/// transaction borrows an idle connection for its own duration (autocommit).
/// There is no lock of the engine's own across connections: transactions of
/// different threads and processes run side by side, and what must not
/// interleave is guarded by row locks in the statements (see locking.hpp).
class PgDatabase final : public Database {
 public:
  PgDatabase(std::unique_ptr<pqxx::connection> first, std::string url, std::size_t max_connections)
      : url_(std::move(url)), max_(std::max<std::size_t>(1, max_connections)) {
    auto c = std::make_unique<PgConnection>();
    c->conn = std::move(first);
    idle_.push_back(std::move(c));
    open_ = 1;
  }
  ~PgDatabase() override {
    for (auto& [thread, c] : bound_) c->abort_transaction();
  }

  std::string_view dialect() const override { return "postgresql"; }

  DbResult<std::unique_ptr<Statement>> prepare(std::string_view sql) override {
    if (sql.find_first_not_of(" \t\r\n;") == std::string_view::npos)
      return db_error(DbError::Kind::Misuse, "prepare: empty statement");
    return std::unique_ptr<Statement>(new PgStatement(*this, std::string(sql)));
  }

  DbResult<void> execute_script(std::string_view sql) override {
    const std::string text(sql);
    return on_connection("script", [&](PgConnection& c) -> DbResult<void> {
      if (c.tx) {
        c.tx->exec(text);
      } else {
        pqxx::nontransaction n(*c.conn);
        n.exec(text);
      }
      return {};
    });
  }

  DbResult<Transaction> begin() override;

  /// Nothing to hold for a convenience call: each statement takes its
  /// connection itself (the thread's transaction, or an idle one).
  std::unique_lock<std::recursive_mutex> lock_connection() override { return {}; }

  /// Runs one statement, in the calling thread's transaction when it has one.
  DbResult<pqxx::result> exec(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> raw;
    raw.reserve(params.size());
    for (const auto& p : params) raw.push_back(p ? p->c_str() : nullptr);
    return on_connection("statement", [&](PgConnection& c) -> DbResult<pqxx::result> {
      if (c.tx) return c.tx->exec_params(sql, pqxx::prepare::make_dynamic_params(raw));
      pqxx::nontransaction n(*c.conn);
      return n.exec_params(sql, pqxx::prepare::make_dynamic_params(raw));
    });
  }

  /// Takes a connection for a transaction and binds it to the calling thread.
  DbResult<PgConnection*> bind_transaction() {
    {
      std::lock_guard lock(mu_);
      if (bound_.count(std::this_thread::get_id()))
        return db_error(DbError::Kind::Misuse, "nested transactions are not supported");
    }
    RSP_TRY(auto c, acquire());
    PgConnection* raw = c.get();
    std::lock_guard lock(mu_);
    bound_.emplace(std::this_thread::get_id(), std::move(c));
    return raw;
  }

  /// Ends the transaction on `c` (aborting it when still open) and returns
  /// the connection to the pool.
  void unbind_transaction(PgConnection* c) noexcept {
    c->abort_transaction();
    std::unique_ptr<PgConnection> owned;
    {
      std::lock_guard lock(mu_);
      for (auto it = bound_.begin(); it != bound_.end(); ++it) {
        if (it->second.get() != c) continue;
        owned = std::move(it->second);
        bound_.erase(it);
        break;
      }
    }
    if (owned) release(std::move(owned));
  }

  DbResult<void> commit_transaction(PgConnection& c) {
    if (!c.tx) return db_error(DbError::Kind::Misuse, "transaction already finished");
    if (c.tx_failed) {
      // PostgreSQL answers COMMIT of a failed transaction with a rollback;
      // say so instead of reporting success.
      c.abort_transaction();
      return db_error(DbError::Kind::Misuse, "commit: the transaction was aborted by an earlier error");
    }
    try {
      c.tx->commit();
    } catch (...) {
      auto err = current_error("commit");
      c.abort_transaction();
      return err;
    }
    c.tx.reset();
    return {};
  }

  /// Opens a connection in place of one the server dropped (restart,
  /// failover, outage), so service resumes once the server is back.
  DbResult<void> reconnect(PgConnection& c) {
    RSP_TRY(auto fresh, connect(url_));
    c.conn = std::move(fresh);
    return {};
  }

  std::size_t max_connections() const { return max_; }

 private:
  /// Runs `fn` on the calling thread's transaction connection, or on an
  /// idle one borrowed for the call; an exception becomes a DbError and
  /// marks the transaction failed. Outside a transaction a connection found
  /// broken is opened again first; inside one the failure stands (its work
  /// is lost with the connection, and the transaction fails as a whole).
  template <class F>
  auto on_connection(std::string_view what, F&& fn) -> decltype(fn(std::declval<PgConnection&>())) {
    PgConnection* bound = nullptr;
    {
      std::lock_guard lock(mu_);
      if (auto it = bound_.find(std::this_thread::get_id()); it != bound_.end()) bound = it->second.get();
    }
    if (bound) {
      try {
        return fn(*bound);
      } catch (...) {
        bound->tx_failed = true;
        return current_error(what);
      }
    }
    RSP_TRY(auto c, acquire());
    auto result = [&]() -> decltype(fn(std::declval<PgConnection&>())) {
      try {
        return fn(*c);
      } catch (...) {
        return current_error(what);
      }
    }();
    release(std::move(c));
    return result;
  }

  /// An idle connection, a new one while the pool is below its size, or
  /// the next one another thread gives back.
  DbResult<std::unique_ptr<PgConnection>> acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !idle_.empty() || open_ < max_; });
    std::unique_ptr<PgConnection> c;
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;
      c = std::make_unique<PgConnection>();
    }
    lock.unlock();
    if (c->conn && c->conn->is_open()) return c;
    if (auto r = reconnect(*c); !r) {
      std::lock_guard relock(mu_);
      --open_;
      cv_.notify_one();
      return unexpected(r.error());
    }
    return c;
  }

  void release(std::unique_ptr<PgConnection> c) {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(c));
    cv_.notify_one();
  }

  std::string url_;  ///< kept to connect; never shown (see redact_url)
  const std::size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::size_t open_ = 0;  ///< connections made (idle, lent or bound)
  std::unordered_map<std::thread::id, std::unique_ptr<PgConnection>> bound_;  ///< open transactions
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
  PgTransaction(PgDatabase& db, PgConnection* c) : db_(db), c_(c) {}
  ~PgTransaction() override { rollback(); }

  DbResult<void> commit() override {
    if (!c_) return db_error(DbError::Kind::Misuse, "transaction already finished");
    auto r = db_.commit_transaction(*c_);
    finish();
    return r;
  }

  void rollback() noexcept override { finish(); }

 private:
  void finish() noexcept {
    if (!c_) return;
    db_.unbind_transaction(std::exchange(c_, nullptr));
  }
  PgDatabase& db_;
  PgConnection* c_;
};

DbResult<Transaction> PgDatabase::begin() {
  RSP_TRY(PgConnection * c, bind_transaction());
  // A connection found broken at BEGIN is opened again once: nothing of the
  // transaction ran yet, so trying again cannot do anything twice.
  for (int attempt = 0;; ++attempt) {
    try {
      c->tx = std::make_unique<pqxx::work>(*c->conn);
      break;
    } catch (const pqxx::broken_connection&) {
      auto err = current_error("begin");
      c->abort_transaction();
      if (attempt > 0 || !reconnect(*c)) {
        unbind_transaction(c);
        return err;
      }
    } catch (...) {
      auto err = current_error("begin");
      unbind_transaction(c);
      return err;
    }
  }
  return Transaction(std::make_unique<PgTransaction>(*this, c));
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

DbResult<std::unique_ptr<Database>> open_postgresql(const std::string& url, PgOptions options) {
  RSP_TRY(auto conn, connect(url));
  return std::unique_ptr<Database>(std::make_unique<PgDatabase>(std::move(conn), url, options.connections));
}

}  // namespace rsp::store

#include "rsp/store/database.hpp"

namespace rsp::store {

namespace {
const Value kNull = Null{};
}

const Value& Row::at(std::size_t i) const { return i < values_.size() ? values_[i] : kNull; }

bool Row::is_null(std::size_t i) const { return std::holds_alternative<Null>(at(i)); }

std::int64_t Row::int64(std::size_t i, std::int64_t fallback) const { return opt_int64(i).value_or(fallback); }

std::string Row::text(std::size_t i) const { return opt_text(i).value_or(std::string()); }

Bytes Row::blob(std::size_t i) const { return opt_blob(i).value_or(Bytes{}); }

std::optional<std::int64_t> Row::opt_int64(std::size_t i) const {
  const Value& v = at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

std::optional<std::string> Row::opt_text(std::size_t i) const {
  const Value& v = at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<Bytes>(&v)) return to_string(*b);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  return std::nullopt;
}

std::optional<Bytes> Row::opt_blob(std::size_t i) const {
  const Value& v = at(i);
  if (const auto* b = std::get_if<Bytes>(&v)) return *b;
  if (const auto* s = std::get_if<std::string>(&v)) return to_bytes(*s);
  return std::nullopt;
}

DbResult<std::vector<Row>> Statement::run(std::span<const Value> params) {
  RSP_TRY_VOID(reset());
  for (std::size_t i = 0; i < params.size(); ++i) RSP_TRY_VOID(bind(static_cast<int>(i + 1), params[i]));
  std::vector<Row> rows;
  for (;;) {
    RSP_TRY(bool more, step());
    if (!more) break;
    rows.push_back(row());
  }
  return rows;
}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    rollback();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Transaction::~Transaction() { rollback(); }

DbResult<void> Transaction::commit() {
  if (!impl_) return db_error(DbError::Kind::Misuse, "transaction already finished");
  auto impl = std::move(impl_);
  auto r = impl->commit();
  if (!r) impl->rollback();
  return r;
}

void Transaction::rollback() noexcept {
  if (!impl_) return;
  auto impl = std::move(impl_);
  impl->rollback();
}

DbResult<std::int64_t> Database::execute(std::string_view sql, std::initializer_list<Value> params) {
  return execute(sql, std::span<const Value>(params.begin(), params.size()));
}

DbResult<std::int64_t> Database::execute(std::string_view sql, std::span<const Value> params) {
  auto lock = lock_connection();
  RSP_TRY(auto stmt, prepare(sql));
  RSP_TRY_VOID(stmt->run(params));
  return stmt->changes();
}

DbResult<std::vector<Row>> Database::query(std::string_view sql, std::initializer_list<Value> params) {
  return query(sql, std::span<const Value>(params.begin(), params.size()));
}

DbResult<std::vector<Row>> Database::query(std::string_view sql, std::span<const Value> params) {
  auto lock = lock_connection();
  RSP_TRY(auto stmt, prepare(sql));
  return stmt->run(params);
}

DbResult<std::optional<Row>> Database::query_one(std::string_view sql, std::initializer_list<Value> params) {
  RSP_TRY(auto rows, query(sql, params));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

}  // namespace rsp::store

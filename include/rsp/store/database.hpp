#pragma once
/// A small SQL database layer: statements with bound parameters, row reading,
/// RAII transactions and errors as values. One interface, several engines
/// (SQLite today; PostgreSQL fits behind the same calls).
///
/// Portable SQL conventions every caller follows:
///   * Parameters are written `$1`, `$2`, ... (PostgreSQL's native form; the
///     SQLite engine binds them by name). A number may repeat in a statement.
///   * Values are NULL, 64-bit integers, doubles, UTF-8 text or byte blobs
///     (BYTEA in PostgreSQL). Booleans are integers 0/1; times are integer
///     seconds since the Unix epoch.
///   * Auto-generated keys are read back with `RETURNING id` (both engines)
///     rather than engine-specific last-insert calls.
///
/// Thread safety: a Database may be shared between threads; each call holds
/// the connection for its duration and a Transaction holds it until it ends,
/// so statements of other threads wait for the transaction.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::store {

struct DbError {
  enum class Kind {
    Open,        ///< cannot open or configure the database
    Syntax,      ///< statement refused by the engine (SQL error)
    Constraint,  ///< unique / foreign key / check constraint violated
    Busy,        ///< locked by another connection beyond the busy timeout
    Conflict,    ///< the server ended the transaction as a deadlock victim or a
                 ///< serialisation failure: nothing of it stays, and running it
                 ///< again may succeed (locking.hpp: retry_conflicts)
    Io,          ///< disk or corruption error
    Misuse,      ///< API used wrongly (bad column, transaction already ended)
    Schema,      ///< migration problem (e.g. database newer than the program)
  };
  Kind kind = Kind::Misuse;
  std::string message;  ///< engine message; never contains bound parameter values
};

template <class T>
using DbResult = expected<T, DbError>;

/// A NULL, integer, real, text or blob value (bound parameter or column).
struct Null {
  bool operator==(const Null&) const = default;
};
using Value = std::variant<Null, std::int64_t, double, std::string, Bytes>;

/// Builds a Value from common C++ types (optional -> NULL when empty).
inline Value value(std::nullopt_t) { return Null{}; }
inline Value value(std::int64_t v) { return v; }
inline Value value(int v) { return static_cast<std::int64_t>(v); }
inline Value value(bool v) { return static_cast<std::int64_t>(v ? 1 : 0); }
inline Value value(double v) { return v; }
inline Value value(std::string v) { return v; }
inline Value value(const char* v) { return std::string(v); }
inline Value value(std::string_view v) { return std::string(v); }
inline Value value(Bytes v) { return v; }
template <class T>
Value value(const std::optional<T>& v) {
  return v ? value(*v) : Value(Null{});
}

/// One result row; typed getters return an error for a wrong index or type.
class Row {
 public:
  Row() = default;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  const Value& at(std::size_t i) const;
  bool is_null(std::size_t i) const;
  /// The typed value; NULL or another type gives the fallback / nullopt.
  std::int64_t int64(std::size_t i, std::int64_t fallback = 0) const;
  std::string text(std::size_t i) const;
  Bytes blob(std::size_t i) const;
  std::optional<std::int64_t> opt_int64(std::size_t i) const;
  std::optional<std::string> opt_text(std::size_t i) const;
  std::optional<Bytes> opt_blob(std::size_t i) const;

 private:
  std::vector<Value> values_;
};

/// A prepared statement. Use from one thread at a time; bind, then step until
/// it returns false, then reset to run again.
class Statement {
 public:
  virtual ~Statement() = default;
  /// Binds `$index` (1-based).
  virtual DbResult<void> bind(int index, const Value& v) = 0;
  /// Executes up to the next row: true when a row is available.
  virtual DbResult<bool> step() = 0;
  /// The current row (after step() returned true).
  virtual Row row() const = 0;
  virtual int column_count() const = 0;
  /// Rows changed by the last completed INSERT/UPDATE/DELETE.
  virtual std::int64_t changes() const = 0;
  /// Ready to run again; bindings are kept until rebound.
  virtual DbResult<void> reset() = 0;

  /// Binds `params` as $1..$n, runs to the end and returns every row.
  DbResult<std::vector<Row>> run(std::span<const Value> params);
};

class Database;

/// RAII transaction: rolled back when destroyed without commit(), so an
/// interrupted unit of work leaves nothing behind.
class Transaction {
 public:
  class Impl {
   public:
    virtual ~Impl() = default;
    virtual DbResult<void> commit() = 0;
    virtual void rollback() noexcept = 0;
  };
  explicit Transaction(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
  Transaction(Transaction&&) noexcept = default;
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  /// Makes the changes durable; afterwards the transaction is finished.
  DbResult<void> commit();
  /// Discards the changes now (also what the destructor does).
  void rollback() noexcept;
  bool active() const { return impl_ != nullptr; }

 private:
  std::unique_ptr<Impl> impl_;
};

class Database {
 public:
  virtual ~Database() = default;
  /// "sqlite" or "postgresql": for the rare statement that must differ.
  virtual std::string_view dialect() const = 0;
  virtual DbResult<std::unique_ptr<Statement>> prepare(std::string_view sql) = 0;
  /// Runs several `;`-separated statements without parameters (DDL scripts).
  virtual DbResult<void> execute_script(std::string_view sql) = 0;
  /// Starts a transaction (SQLite: BEGIN IMMEDIATE, so writers never deadlock
  /// upgrading a read lock). Nesting is not supported and reports Misuse.
  virtual DbResult<Transaction> begin() = 0;
  /// Starts a transaction whose commit() may return before its changes are
  /// flushed to disk: they survive the process's crash (kill -9), not the
  /// machine's (power loss, kernel crash), until the next commit of begin()
  /// flushes them with its own. For changes whose loss on a machine crash
  /// the protocol recovers from; never for a decision already announced that
  /// must hold (a released profile, a refused confirmation code).
  /// By default the engine's begin() (PostgreSQL: durability is the server's).
  virtual DbResult<Transaction> begin_deferred_flush() { return begin(); }

  /// Prepares, binds and runs one statement; returns the rows changed.
  DbResult<std::int64_t> execute(std::string_view sql, std::initializer_list<Value> params = {});
  DbResult<std::int64_t> execute(std::string_view sql, std::span<const Value> params);
  /// Prepares, binds and runs one statement; returns its rows.
  DbResult<std::vector<Row>> query(std::string_view sql, std::initializer_list<Value> params = {});
  DbResult<std::vector<Row>> query(std::string_view sql, std::span<const Value> params);
  /// The first row, or nullopt when there is none.
  DbResult<std::optional<Row>> query_one(std::string_view sql, std::initializer_list<Value> params = {});

 protected:
  /// Engines serialise a whole convenience call against other threads.
  virtual std::unique_lock<std::recursive_mutex> lock_connection() = 0;
};

inline unexpected<DbError> db_error(DbError::Kind kind, std::string message) {
  return unexpected(DbError{kind, std::move(message)});
}

}  // namespace rsp::store

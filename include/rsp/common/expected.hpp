#pragma once
/// Errors as values: a minimal `expected<T, E>` (C++23's std::expected is not
/// in our C++20 toolchain). E is usually a component's typed error struct.

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace rsp {

template <class E>
class unexpected {
 public:
  explicit unexpected(E e) : error_(std::move(e)) {}
  const E& error() const& { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class [[nodiscard]] expected {
 public:
  using value_type = T;
  using error_type = E;

  expected()
    requires std::is_default_constructible_v<T>
      : v_(std::in_place_index<0>) {}
  expected(const T& v) : v_(std::in_place_index<0>, v) {}  // NOLINT: implicit by design
  expected(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT
  template <class G>
  expected(const unexpected<G>& u) : v_(std::in_place_index<1>, E(u.error())) {}  // NOLINT
  template <class G>
  expected(unexpected<G>&& u) : v_(std::in_place_index<1>, E(std::move(u).error())) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& { assert(!has_value()); return std::get<1>(v_); }
  E&& error() && { assert(!has_value()); return std::get<1>(std::move(v_)); }

  template <class U>
  T value_or(U&& d) const& { return has_value() ? value() : static_cast<T>(std::forward<U>(d)); }

 private:
  std::variant<T, E> v_;
};

/// expected<void, E>: success carries nothing.
template <class E>
class [[nodiscard]] expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  expected() = default;
  template <class G>
  expected(const unexpected<G>& u) : err_(E(u.error())), ok_(false) {}  // NOLINT
  template <class G>
  expected(unexpected<G>&& u) : err_(E(std::move(u).error())), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { assert(ok_); }
  const E& error() const& { assert(!ok_); return err_; }
  E&& error() && { assert(!ok_); return std::move(err_); }

 private:
  E err_{};
  bool ok_ = true;
};

}  // namespace rsp

/// Propagate an error from an expression returning expected<..., E>:
///   RSP_TRY(auto v, parse(x));   or   RSP_TRY_VOID(check(x));
#define RSP_CONCAT_INNER(a, b) a##b
#define RSP_CONCAT(a, b) RSP_CONCAT_INNER(a, b)
#define RSP_TRY_IMPL(tmp, decl, expr)                         \
  auto tmp = (expr);                                          \
  if (!tmp) return ::rsp::unexpected(std::move(tmp).error()); \
  decl = std::move(tmp).value()
#define RSP_TRY(decl, expr) RSP_TRY_IMPL(RSP_CONCAT(rsp_try_, __LINE__), decl, expr)
#define RSP_TRY_VOID(expr)                                                         \
  do {                                                                             \
    auto rsp_try_v = (expr);                                                       \
    if (!rsp_try_v) return ::rsp::unexpected(std::move(rsp_try_v).error());        \
  } while (0)

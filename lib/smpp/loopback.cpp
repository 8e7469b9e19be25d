#include "rsp/smpp/loopback.hpp"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include "rsp/common/thread_name.hpp"

namespace rsp::smpp {

using Clock = std::chrono::steady_clock;

class LoopbackEndpoint;

struct LoopbackSmsc::State {
  struct Delivery {
    Clock::time_point due;
    std::string target;  ///< digits of the receiving endpoint
    std::variant<ShortMessage, DeliveryReceipt> what;
    std::string message_id;  ///< for a message: the id its sender got
    bool wants_receipt = false;
  };

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::deque<Delivery> queue;                          ///< in order, due times never decrease
  std::map<std::string, std::deque<Delivery>> held;    ///< for addresses nobody owns yet
  std::map<std::string, LoopbackEndpoint*> endpoints;  ///< by digits
  LoopbackEndpoint* delivering = nullptr;              ///< whose handler runs just now
  Faults faults;
  std::uint64_t next_id = 1;
  bool stopping = false;
  std::thread worker;

  void enqueue(Delivery d) {  // with mu held
    if (!queue.empty() && d.due < queue.back().due) d.due = queue.back().due;
    queue.push_back(std::move(d));
    cv.notify_all();
  }
  void run();
};

class LoopbackEndpoint final : public SmsTransport {
 public:
  LoopbackEndpoint(std::shared_ptr<LoopbackSmsc::State> state, Address address)
      : state_(std::move(state)), address_(std::move(address)) {}
  ~LoopbackEndpoint() override { stop(); }

  SmsResult<std::string> submit(const ShortMessage& msg) override {
    RSP_TRY_VOID(validate(msg));
    std::lock_guard lock(state_->mu);
    if (stopped_ || state_->stopping) return sms_error(SmsError::Kind::Stopped, "endpoint stopped");
    auto& f = state_->faults;
    if (f.refuse_next > 0) {
      --f.refuse_next;
      return sms_error(SmsError::Kind::Unavailable, "the SMSC is unreachable (injected fault)");
    }
    const std::string id = "LB" + std::to_string(state_->next_id++);
    if (f.drop_next > 0) {
      --f.drop_next;
      return id;
    }
    int copies = 1;
    if (f.duplicate_next > 0) {
      --f.duplicate_next;
      copies = 2;
    }
    for (int i = 0; i < copies; ++i)
      state_->enqueue({Clock::now() + f.delay, msg.destination.digits, msg, id,
                       i == 0 && (msg.registered_delivery & 0x01) != 0});
    return id;
  }

  void set_inbound(Inbound inbound) override {
    std::lock_guard lock(state_->mu);
    inbound_ = std::move(inbound);
  }

  void stop() override {
    std::unique_lock lock(state_->mu);
    if (stopped_) return;
    stopped_ = true;
    if (const auto it = state_->endpoints.find(address_.digits); it != state_->endpoints.end() && it->second == this)
      state_->endpoints.erase(it);
    // A handler of ours may be running on the worker: wait for it, unless we are that handler.
    if (state_->worker.get_id() != std::this_thread::get_id())
      state_->cv.wait(lock, [&] { return state_->delivering != this; });
  }

  Inbound inbound_;  ///< guarded by state_->mu
  bool stopped_ = false;

 private:
  std::shared_ptr<LoopbackSmsc::State> state_;
  Address address_;
};

void LoopbackSmsc::State::run() {
  std::unique_lock lock(mu);
  while (true) {
    if (stopping) return;
    if (queue.empty()) {
      cv.wait(lock);
      continue;
    }
    if (queue.front().due > Clock::now()) {
      cv.wait_until(lock, queue.front().due);
      continue;
    }
    Delivery d = std::move(queue.front());
    queue.pop_front();
    const auto it = endpoints.find(d.target);
    if (it == endpoints.end()) {
      held[d.target].push_back(std::move(d));
      cv.notify_all();
      continue;
    }
    LoopbackEndpoint* ep = it->second;
    const Inbound inbound = ep->inbound_;
    delivering = ep;
    lock.unlock();
    if (const auto* m = std::get_if<ShortMessage>(&d.what)) {
      if (inbound.on_message) inbound.on_message(*m);
    } else if (inbound.on_receipt) {
      inbound.on_receipt(std::get<DeliveryReceipt>(d.what));
    }
    lock.lock();
    delivering = nullptr;
    if (const auto* m = std::get_if<ShortMessage>(&d.what); m && d.wants_receipt) {
      DeliveryReceipt r{d.message_id, DeliveryState::Delivered, 0, m->destination};
      enqueue({Clock::now(), m->source.digits, r, {}, false});
    }
    cv.notify_all();
  }
}

LoopbackSmsc::LoopbackSmsc() : state_(std::make_shared<State>()) {
  state_->worker = std::thread([s = state_.get()] {
    set_thread_name("sms-loopback");
    s->run();
  });
}

LoopbackSmsc::~LoopbackSmsc() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    state_->cv.notify_all();
  }
  state_->worker.join();
}

std::unique_ptr<SmsTransport> LoopbackSmsc::attach(const Address& address, Inbound inbound) {
  auto ep = std::make_unique<LoopbackEndpoint>(state_, address);
  std::lock_guard lock(state_->mu);
  ep->inbound_ = std::move(inbound);
  state_->endpoints[address.digits] = ep.get();
  // Held messages go first, in the order they were submitted.
  if (const auto it = state_->held.find(address.digits); it != state_->held.end()) {
    for (auto it2 = it->second.rbegin(); it2 != it->second.rend(); ++it2) {
      it2->due = Clock::now();
      state_->queue.push_front(std::move(*it2));
    }
    state_->held.erase(it);
    state_->cv.notify_all();
  }
  return ep;
}

void LoopbackSmsc::set_faults(const Faults& faults) {
  std::lock_guard lock(state_->mu);
  state_->faults = faults;
}

std::size_t LoopbackSmsc::pending() const {
  std::lock_guard lock(state_->mu);
  std::size_t n = state_->queue.size() + (state_->delivering ? 1 : 0);
  for (const auto& [k, v] : state_->held) n += v.size();
  return n;
}

bool LoopbackSmsc::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, timeout, [&] { return state_->queue.empty() && !state_->delivering; });
}

}  // namespace rsp::smpp

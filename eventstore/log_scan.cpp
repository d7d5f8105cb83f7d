#include "eventstore/log_scan.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include <openssl/crypto.h>

#include "eventstore/encoding.h"

namespace ledger::eventstore {

// Entries read together: their bytes, each from a word boundary so that they are decoded in
// place, and their views.
struct LogScan::Batch {
  struct Entry {
    std::uint64_t seq = 0;
    std::size_t word = 0;  // where its bytes start in `words`
    std::size_t size = 0;  // in bytes
  };
  std::vector<std::uint64_t> words;
  std::size_t used = 0;  // words filled
  std::vector<Entry> entries;
  std::vector<EnvelopeView> views;
  std::vector<std::uint64_t> opened;  // the payloads the scanning thread opened
  unsigned share = 0;                 // the slices of customers whose payloads are opened
  // For the entries the caller opens: their customers' data keys, when found; each wiped
  // once kept by the caller's opener, the rest when the batch is reused or destroyed.
  std::vector<DataKey> keys;
  std::vector<std::uint8_t> has_key;
  std::exception_ptr error;           // after the entries: what stopped the scan
  bool last = false;                  // nothing follows this batch

  std::string_view bytes(const Entry& entry) const {
    return {reinterpret_cast<const char*>(words.data() + entry.word), entry.size};
  }
  void wipe_keys() {
    if (!keys.empty()) OPENSSL_cleanse(keys.data(), keys.size() * sizeof(DataKey));
  }
  Batch() = default;
  ~Batch() { wipe_keys(); }
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
};

LogScan::LogScan(const Reader& reader, std::uint64_t from)
    : it_(reader.scan(Family::kLog)),
      scanning_opener_(reader.database().key_store()),
      share_(kOpeningSlices / 2),
      opener_(reader.database().key_store()) {
  for (std::size_t i = 0; i < kLogBatches; ++i) {
    auto batch = std::make_unique<Batch>();
    batch->words.resize(kLogBatchBytes / sizeof(std::uint64_t));
    free_.push_back(std::move(batch));
  }
  thread_ = std::thread([this, from] { scan(from); });
}

LogScan::~LogScan() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

const EnvelopeView* LogScan::next() {
  while (!current_ || position_ == current_->entries.size()) {
    if (current_) {
      if (auto error = std::exchange(current_->error, nullptr)) std::rethrow_exception(error);
      if (current_->last) return nullptr;
      {
        std::lock_guard lock(mutex_);
        free_.push_back(std::move(current_));
      }
      changed_.notify_all();
    }
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !full_.empty(); });
    current_ = std::move(full_.front());
    full_.pop_front();
    position_ = 0;
  }
  const auto i = position_++;
  auto& view = current_->views[i];
  if (stored_sealed(view.customer, view.payload) && opening_slice(view.customer) >= current_->share) {
    if (current_->has_key[i]) {
      opener_.keep_key(view.customer, current_->keys[i]);
      OPENSSL_cleanse(&current_->keys[i], sizeof(DataKey));
    }
    try {
      view.payload = opener_.open(view.seq, view.customer, view.payload);
    } catch (...) {
      // Nothing after the entry that does not open is handed out, as when the scanning
      // thread stops at one.
      position_ = current_->entries.size();
      current_->error = nullptr;
      current_->last = true;
      throw;
    }
  }
  return &view;
}

bool LogScan::add(Batch& batch, std::string_view bytes, std::uint64_t seq) {
  const std::size_t words = (bytes.size() + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);
  if (batch.used + words > batch.words.size()) {
    if (!batch.entries.empty()) return false;
    batch.words.resize(words);  // one entry larger than a batch
  }
  std::memcpy(batch.words.data() + batch.used, bytes.data(), bytes.size());
  batch.entries.push_back({seq, batch.used, bytes.size()});
  batch.used += words;
  return true;
}

void LogScan::prepare(Batch& batch) {
  batch.views.reserve(batch.entries.size());
  batch.share = share_;
  if (batch.share < kOpeningSlices) {
    batch.keys.resize(batch.entries.size());
    batch.has_key.assign(batch.entries.size(), 0);
  }
  // An opened payload is shorter than its entry: all of them fit without moving.
  batch.opened.resize(batch.used + batch.entries.size());
  std::size_t opened = 0;
  for (std::size_t i = 0; i < batch.entries.size(); ++i) {
    const auto& entry = batch.entries[i];
    try {
      // Decoded in place: the batch's bytes are word-aligned and live as long as the view.
      batch.views.push_back(scanning_decoder_.decode(batch.bytes(entry), entry.seq));
      auto& view = batch.views.back();
      const bool sealed = stored_sealed(view.customer, view.payload);  // else nothing to open
      if (sealed && opening_slice(view.customer) < batch.share) {
        // Opened into the opener's buffer, which the next entry reuses: kept with the batch.
        const auto payload = scanning_opener_.open(view.seq, view.customer, view.payload);
        auto* out = reinterpret_cast<char*>(batch.opened.data() + opened);
        std::memcpy(out, payload.data(), payload.size());
        view.payload = {out, payload.size()};
        opened += (payload.size() + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);
      } else if (const auto* key = sealed ? scanning_opener_.find_key(view.customer) : nullptr) {
        batch.keys[i] = *key;
        batch.has_key[i] = 1;
      }
    } catch (...) {
      // The entries before it still go to the caller; this one and the rest do not.
      batch.entries.resize(i);
      batch.views.resize(i);
      batch.error = std::current_exception();
      batch.last = true;
      return;
    }
  }
}

auto LogScan::take_free() -> std::unique_ptr<Batch> {
  std::unique_lock lock(mutex_);
  waited_ = free_.empty();
  changed_.wait(lock, [&] { return stopping_ || !free_.empty(); });
  if (stopping_) return nullptr;
  auto batch = std::move(free_.back());
  free_.pop_back();
  batch->used = 0;
  batch->wipe_keys();
  batch->entries.clear();
  batch->views.clear();
  batch->error = nullptr;
  batch->last = false;
  return batch;
}

void LogScan::give(std::unique_ptr<Batch> batch) {
  std::size_t full = 0;
  {
    std::lock_guard lock(mutex_);
    full = full_.size();
    full_.push_back(std::move(batch));
  }
  changed_.notify_all();
  balance(std::exchange(waited_, false), full);
}

void LogScan::balance(bool waited, std::size_t full) {
  constexpr unsigned kStep = 2;
  if (waited && full > 0) share_ = std::min(share_ + kStep, kOpeningSlices);
  if (!waited && full == 0) share_ = share_ >= kStep ? share_ - kStep : 0;
}

void LogScan::scan(std::uint64_t from) {
  auto batch = take_free();
  if (!batch) return;
  try {
    for (it_->Seek(u64_key(from)); it_->Valid(); it_->Next()) {
      const auto key = it_->key();
      if (key.size() != 8) throw CorruptionError("a log key is not 8 bytes");
      const auto seq = get_u64(std::string_view(key.data(), key.size()));
      const std::string_view value(it_->value().data(), it_->value().size());
      if (add(*batch, value, seq)) continue;
      prepare(*batch);
      if (batch->last) return give(std::move(batch));
      give(std::move(batch));
      if (!(batch = take_free())) return;
      add(*batch, value, seq);
    }
    Database::check(it_->status(), "scanning the log");
  } catch (...) {
    if (!batch) return;  // stopping while it waited for a batch
    prepare(*batch);
    if (!batch->last) batch->error = std::current_exception();
    batch->last = true;
    return give(std::move(batch));
  }
  prepare(*batch);
  batch->last = true;
  give(std::move(batch));
}

unsigned LogScan::scanning_share() const { return current_ ? current_->share : 0; }

}  // namespace ledger::eventstore

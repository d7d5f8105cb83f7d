// Locking written into the types: Clang's thread-safety annotations (clang -Wthread-safety checks
// them; on GCC the macros expand to nothing), and a mutex and scoped lock that carry them, for
// libstdc++'s std::mutex carries none. Write `T member_ GUARDED_BY(mutex_);`, `void f()
// REQUIRES(mutex_);` for a function called with the lock held and `EXCLUDES(mutex_)` for one
// that takes it. Wait on a Mutex with std::condition_variable_any and a MutexLock. A
// SharedMutex is held by one writer (WriterMutexLock) or by many readers (ReaderMutexLock);
// `REQUIRES_SHARED(mutex_)` says a function reads under either.
//
// Thread-safety: Mutex is a std::mutex and SharedMutex a std::shared_mutex; a scoped lock
// belongs to the thread that made it.
#pragma once

#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define LEDGER_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LEDGER_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) LEDGER_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY LEDGER_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) LEDGER_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) LEDGER_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) LEDGER_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) LEDGER_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) LEDGER_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) LEDGER_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LEDGER_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) LEDGER_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) LEDGER_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS LEDGER_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace ledger::eventstore {

// A std::mutex the analysis knows as a capability.
class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mutex_.lock(); }
  void unlock() RELEASE() { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

// Holds `mutex` from construction to destruction, except between unlock() and lock(); a
// std::condition_variable_any waits on it (it unlocks and locks again inside the wait, which the
// analysis does not see: the lock counts as held throughout, as it is when the wait returns).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) NO_THREAD_SAFETY_ANALYSIS : mutex_(mutex) { mutex_.lock(); }
  ~MutexLock() RELEASE() NO_THREAD_SAFETY_ANALYSIS {
    if (held_) mutex_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void lock() ACQUIRE() NO_THREAD_SAFETY_ANALYSIS {
    mutex_.lock();
    held_ = true;
  }
  void unlock() RELEASE() NO_THREAD_SAFETY_ANALYSIS {
    held_ = false;
    mutex_.unlock();
  }

 private:
  Mutex& mutex_;
  bool held_ = true;
};

// A std::shared_mutex the analysis knows as a capability: held exclusively or shared.
class CAPABILITY("mutex") SharedMutex {
 public:
  void lock() ACQUIRE() { mutex_.lock(); }
  void unlock() RELEASE() { mutex_.unlock(); }
  void lock_shared() ACQUIRE_SHARED() { mutex_.lock_shared(); }
  void unlock_shared() RELEASE_SHARED() { mutex_.unlock_shared(); }

 private:
  std::shared_mutex mutex_;
};

// Holds `mutex` exclusively from construction to destruction.
class SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex& mutex) ACQUIRE(mutex) NO_THREAD_SAFETY_ANALYSIS : mutex_(mutex) {
    mutex_.lock();
  }
  ~WriterMutexLock() RELEASE() NO_THREAD_SAFETY_ANALYSIS { mutex_.unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex& mutex_;
};

// Holds `mutex` shared from construction to destruction.
class SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex& mutex) ACQUIRE_SHARED(mutex) NO_THREAD_SAFETY_ANALYSIS : mutex_(mutex) {
    mutex_.lock_shared();
  }
  ~ReaderMutexLock() RELEASE() NO_THREAD_SAFETY_ANALYSIS { mutex_.unlock_shared(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex& mutex_;
};

}  // namespace ledger::eventstore

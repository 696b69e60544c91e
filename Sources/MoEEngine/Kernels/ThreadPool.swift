import Foundation
import Synchronization

/// A small fixed-size pool of worker threads for the kernels.
///
/// `run(_:)` calls a body once per worker index `0..<threadCount`, in parallel, and returns when
/// every call has finished; the calling thread is worker 0, so a pool of one thread runs
/// everything inline. Kernels split their output rows into fixed, contiguous ranges per worker
/// (`range(of:count:)`), and each output element is computed by exactly one worker in a fixed
/// summation order: results are bit-identical whatever `threadCount` is.
///
/// Workers spin briefly between jobs (a decode step issues hundreds of small jobs a few
/// microseconds apart), then sleep on a condition so an idle pool costs no CPU.
/// `run` is not reentrant: one caller at a time (the engine's generation thread).
public final class ThreadPool: @unchecked Sendable {
    /// Worker count, the calling thread included.
    public let threadCount: Int

    // Synchronisation. `generation` is bumped (releasing) after `job` is stored; workers
    // acquire it before reading `job`. `pending` counts workers still inside the job.
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let wake = NSCondition()
    private let busy = Mutex<Bool>(false)
    // Written only by the thread in `run`, before the releasing store of `generation`.
    private var job: ((Int) -> Void)?
    private var threads: [Thread] = []

    /// Spin iterations a worker polls for the next job before it sleeps (about 50 µs).
    private static let spinLimit = 20_000

    /// A pool of `threadCount` workers (at least 1), the calling thread included.
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        for worker in 1..<self.threadCount {
            let thread = Thread { [unowned(unsafe) self] in self.workerLoop(worker) }
            thread.name = "moetop.kernel.\(worker)"
            thread.stackSize = 1 << 22
            threads.append(thread)
            thread.start()
        }
    }

    /// A pool with one worker per active processor.
    public convenience init() {
        self.init(threadCount: ProcessInfo.processInfo.activeProcessorCount)
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        wake.lock()
        generation.add(1, ordering: .releasing)
        wake.broadcast()
        wake.unlock()
        // Workers hold `self` unowned; wait until every one has left its loop.
        while pending.load(ordering: .acquiring) > -(threadCount - 1) { sched_yield() }
    }

    /// Calls `body(worker)` for every worker index in `0..<threadCount` in parallel and waits
    /// for all of them. The calling thread runs worker 0.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 {
            body(0)
            return
        }
        let wasBusy = busy.withLock { busy in
            defer { busy = true }
            return busy
        }
        precondition(!wasBusy, "ThreadPool.run is not reentrant")
        withoutActuallyEscaping(body) { escaping in
            // publish the job, then wake sleepers
            job = escaping
            pending.store(threadCount - 1, ordering: .relaxed)
            wake.lock()
            generation.add(1, ordering: .releasing)
            wake.broadcast()
            wake.unlock()

            // our share, then wait for the others
            escaping(0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > 64 { sched_yield() }
            }
            job = nil
        }
        busy.withLock { $0 = false }
    }

    /// The contiguous share of `0..<count` that `worker` handles: the ranges of all workers are
    /// disjoint, in order, and cover `0..<count`. With `granule`, range bounds are multiples of it
    /// (except the last upper bound).
    @inline(__always)
    public func range(of worker: Int, count: Int, granule: Int = 1) -> Range<Int> {
        let units = (count + granule - 1) / granule
        let lower = min(count, units * worker / threadCount * granule)
        let upper = min(count, units * (worker + 1) / threadCount * granule)
        return lower..<upper
    }

    private func workerLoop(_ worker: Int) {
        var seen = 0
        while true {
            // wait for a new generation: spin, then sleep
            var current = generation.load(ordering: .acquiring)
            var spins = 0
            while current == seen && spins < Self.spinLimit {
                spins += 1
                current = generation.load(ordering: .acquiring)
            }
            if current == seen {
                wake.lock()
                current = generation.load(ordering: .acquiring)
                while current == seen {
                    wake.wait()
                    current = generation.load(ordering: .acquiring)
                }
                wake.unlock()
            }
            seen = current
            if stopping.load(ordering: .acquiring) {
                pending.subtract(1, ordering: .releasing)
                return
            }

            // run our share and report
            job?(worker)
            pending.subtract(1, ordering: .releasing)
        }
    }
}

import Foundation
import Synchronization

/// A small fixed-size pool of worker threads for the kernels.
///
/// `parallelFor(chunks:_:)` calls a body once for every chunk index `0..<chunks` and returns
/// when all calls have finished. Threads take chunks from a shared counter, so a thread that the
/// system deschedules (the machine is shared) delays only the chunk it holds; the calling thread
/// takes chunks too, so a pool of one thread runs everything inline.
///
/// Determinism: kernels give every output element to exactly one chunk and compute it in a
/// fixed summation order, so results are bit-identical whatever `threadCount` is and whichever
/// thread runs a chunk.
///
/// Workers spin briefly between jobs (a decode step issues hundreds of small jobs a few
/// microseconds apart), then sleep on a condition so an idle pool costs no processor time.
/// `parallelFor` is not reentrant: one caller at a time (the engine's generation thread).
public final class ThreadPool: @unchecked Sendable {
    /// Thread count, the calling thread included.
    public let threadCount: Int

    // The current job. `state` packs the job's generation (bits 40...63), its chunk count
    // (bits 20...39) and the next chunk to hand out (bits 0...19), so that a claim (a
    // compare-and-swap on `state`) succeeds only for a chunk of the current job. `body` is
    // written before `state` publishes a new generation (releasing) and stays valid until all of
    // the job's chunks are done.
    private let state = Atomic<UInt64>(0)
    private let done = Atomic<Int>(0)
    private let running = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let wake = NSCondition()
    private let busy = Mutex<Bool>(false)
    private var body: ((Int, Int) -> Void)?

    private static let generationShift: UInt64 = 40
    private static let countShift: UInt64 = 20
    private static let fieldMask: UInt64 = (1 << 20) - 1
    /// The most chunks one `parallelFor` takes.
    public static let maximumChunks = Int(fieldMask)

    /// Spin iterations a worker polls for work before it sleeps (tens of microseconds).
    private static let spinLimit = 20_000

    /// A pool of `threadCount` threads (at least 1), the calling thread included.
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        running.store(self.threadCount - 1, ordering: .relaxed)
        for worker in 1..<self.threadCount {
            let thread = Thread { [unowned(unsafe) self] in self.workerLoop(worker) }
            thread.name = "moetop.kernel.\(worker)"
            thread.start()
        }
    }

    /// A pool with one thread per active processor.
    public convenience init() {
        self.init(threadCount: ProcessInfo.processInfo.activeProcessorCount)
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        wake.lock()
        state.add(1 << Self.generationShift, ordering: .releasing)
        wake.broadcast()
        wake.unlock()
        // workers hold `self` unowned: wait until every one has left its loop
        while running.load(ordering: .acquiring) > 0 { sched_yield() }
    }

    /// Calls `body(chunk, thread)` once for every chunk in `0..<chunks`, on the pool's threads
    /// and the calling one, and waits for all of them. `thread` (in `0..<threadCount`) names the
    /// thread running the call, for per-thread scratch; one thread runs one chunk at a time.
    public func parallelFor(chunks: Int, _ body: (_ chunk: Int, _ thread: Int) -> Void) {
        guard chunks > 0 else { return }
        if threadCount == 1 || chunks == 1 {
            for chunk in 0..<chunks { body(chunk, 0) }
            return
        }
        precondition(chunks <= Self.maximumChunks, "too many chunks")
        let wasBusy = busy.withLock { busy in
            defer { busy = true }
            return busy
        }
        precondition(!wasBusy, "ThreadPool.parallelFor is not reentrant")
        withoutActuallyEscaping(body) { escaping in
            // publish the job, then wake sleepers
            self.body = escaping
            done.store(0, ordering: .relaxed)
            let generation = (state.load(ordering: .relaxed) >> Self.generationShift) &+ 1
            wake.lock()
            state.store(
                generation << Self.generationShift | UInt64(chunks) << Self.countShift,
                ordering: .releasing)
            wake.broadcast()
            wake.unlock()

            // take chunks like any worker, then wait for those still running elsewhere
            while let chunk = claim() {
                escaping(chunk, 0)
                done.add(1, ordering: .releasing)
            }
            var spins = 0
            while done.load(ordering: .acquiring) < chunks {
                spins += 1
                if spins > 64 { sched_yield() }
            }
            self.body = nil
        }
        busy.withLock { $0 = false }
    }

    /// The contiguous share `chunk` of `0..<count` cut into `chunks` parts: the parts are
    /// disjoint, in order, and cover `0..<count`; their bounds are multiples of `granule` (except
    /// the last upper bound).
    @inline(__always)
    public static func range(of chunk: Int, chunks: Int, count: Int, granule: Int = 1)
        -> Range<Int>
    {
        let units = (count + granule - 1) / granule
        let lower = min(count, units * chunk / chunks * granule)
        let upper = min(count, units * (chunk + 1) / chunks * granule)
        return lower..<upper
    }

    /// Claims the next chunk of the current job, or nil when none is left.
    @inline(__always)
    private func claim() -> Int? {
        var current = state.load(ordering: .acquiring)
        while true {
            let next = current & Self.fieldMask
            guard next < (current >> Self.countShift) & Self.fieldMask else { return nil }
            let (exchanged, original) = state.compareExchange(
                expected: current, desired: current &+ 1, ordering: .acquiringAndReleasing)
            if exchanged { return Int(next) }
            current = original
        }
    }

    private func workerLoop(_ worker: Int) {
        var seen: UInt64 = 0
        while true {
            // wait for a generation we have not served: spin, then sleep
            var current = state.load(ordering: .acquiring) >> Self.generationShift
            var spins = 0
            while current == seen && spins < Self.spinLimit {
                spins += 1
                current = state.load(ordering: .acquiring) >> Self.generationShift
            }
            if current == seen {
                wake.lock()
                current = state.load(ordering: .acquiring) >> Self.generationShift
                while current == seen {
                    wake.wait()
                    current = state.load(ordering: .acquiring) >> Self.generationShift
                }
                wake.unlock()
            }
            seen = current
            if stopping.load(ordering: .acquiring) {
                running.subtract(1, ordering: .releasing)
                return
            }

            // serve chunks until the job has none left
            while let chunk = claim() {
                body?(chunk, worker)
                done.add(1, ordering: .releasing)
            }
        }
    }
}

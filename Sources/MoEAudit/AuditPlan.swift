/// Which prompts each step of the protocol runs, and at which thread counts.
///
/// The full audit runs every prompt. `--quick` keeps the same checks on a small subset, chosen
/// by position so that it is the same every time: per domain the first `quickPerDomain` prompts
/// that are not rewordings, the first rewording pair of each domain (in domain order, at most
/// `quickPairs`), the first
/// `quickBoundary` boundary prompts, a stability set of `quickStability` and one rerun.
///
/// The stability set (step 5) is fixed: domains in name order, round robin, each domain's
/// prompts in load order (its own file first), until `stabilitySize` prompts are taken. With
/// SamplePrompts' ten domains it is the first ten lines of each domain file.
public struct AuditPlan: Sendable {
    public static let stabilitySize = 100
    public static let quickStability = 20
    public static let quickPerDomain = 4
    public static let quickPairs = 5
    public static let quickBoundary = 5
    /// Thread counts tried for the reruns, in this order, skipping the baseline's.
    public static let rerunThreadCandidates = [1, 3, 2, 4]

    public var quick: Bool
    /// Every prompt step 1 runs, in run order: the domains' prompts, then the boundary prompts.
    public var prompts: [AuditPrompt]
    /// Domain names, sorted.
    public var domains: [String]
    /// Each domain's prompts (its own and its rewording prompts), in load order.
    public var domainPrompts: [String: [AuditPrompt]]
    public var boundary: [AuditPrompt]
    public var pairs: [(AuditPrompt, AuditPrompt)]
    /// The fixed set step 5 runs again.
    public var stability: [AuditPrompt]
    /// Threads of the first run of every prompt.
    public var baselineThreads: Int
    /// Threads of each rerun of the stability set.
    public var rerunThreads: [Int]

    public init(prompts set: PromptSet, quick: Bool, threads: Int) {
        self.quick = quick
        domains = set.domains
        var pairs = set.pairs
        if quick {
            // the first pair of each domain, in domain order, so the subset spans domains
            var firstOfDomain: [(AuditPrompt, AuditPrompt)] = []
            for domain in domains {
                if let pair = pairs.first(where: { $0.0.domain == domain }) {
                    firstOfDomain.append(pair)
                }
            }
            pairs = Array(firstOfDomain.prefix(Self.quickPairs))
        }
        self.pairs = pairs
        let pairIDs = Set(pairs.flatMap { [$0.0.id, $0.1.id] })

        // domain prompts: all of them, or the first few plus the kept pairs
        var domainPrompts: [String: [AuditPrompt]] = [:]
        for domain in domains {
            let all = set.prompts(in: domain)
            if quick {
                let own = all.filter { $0.pair == nil }.prefix(Self.quickPerDomain)
                let ownIDs = Set(own.map(\.id))
                domainPrompts[domain] = all.filter {
                    ownIDs.contains($0.id) || pairIDs.contains($0.id)
                }
            } else {
                domainPrompts[domain] = all
            }
        }
        self.domainPrompts = domainPrompts
        boundary =
            quick ? Array(set.boundaryPrompts.prefix(Self.quickBoundary)) : set.boundaryPrompts
        self.prompts = domains.flatMap { domainPrompts[$0] ?? [] } + boundary

        // stability set: round robin over domains
        let size = quick ? Self.quickStability : Self.stabilitySize
        var stability: [AuditPrompt] = []
        var row = 0
        while stability.count < size {
            var took = false
            for domain in domains where stability.count < size {
                guard let list = domainPrompts[domain], row < list.count else { continue }
                stability.append(list[row])
                took = true
            }
            if !took { break }
            row += 1
        }
        self.stability = stability

        baselineThreads = max(1, threads)
        rerunThreads = Array(
            Self.rerunThreadCandidates.filter { $0 != max(1, threads) }.prefix(quick ? 1 : 2))
    }

    /// Prompts that are not in the stability set: the "other work" run between reruns.
    public var otherWork: [AuditPrompt] {
        let ids = Set(stability.map(\.id))
        return prompts.filter { !ids.contains($0.id) }
    }
}

import Foundation
import MoERouting
import Testing

@testable import MoEAudit

private func audit(
    _ subject: ScriptedSubject, prompts: PromptSet, quick: Bool = true, threads: Int = 2,
    thresholds: AuditThresholds = AuditThresholds()
) throws -> AuditReport {
    let plan = AuditPlan(prompts: prompts, quick: quick, threads: threads)
    let data = try AuditCollector.collect(subject: subject, plan: plan)
    return AuditAnalysis.report(data: data, thresholds: thresholds, promptDirectory: "test")
}

private func check(_ report: AuditReport, _ id: String) -> CheckResult? {
    report.checks.first { $0.id == id }
}

@Suite struct PromptLoadingTests {
    @Test func samplePromptsLoadWithTheirCounts() throws {
        let set = try PromptSet(directory: samplePromptsURL)
        // counts from SamplePrompts/README.md
        #expect(set.prompts.count == 739)
        #expect(set.domains.count == 10)
        #expect(set.boundaryPrompts.count == 62)
        #expect(set.pairs.count == 55)
        #expect(set.prompts.count(where: { $0.reference != nil }) == 215)
        #expect(set.prompts(in: "legal").count == 69)
        let first = try #require(set.prompts.first { $0.id == "boundary-002" })
        #expect(first.parents == ["medical", "math"])
        #expect(first.reference == " 270 mg per dose.")
    }

    @Test(arguments: [
        (
            "{\"id\": \"a\"",
            "x.jsonl:1: expected one JSON object per line, found text that is not JSON"
        ),
        (
            "[1, 2]",
            "x.jsonl:1: expected one JSON object per line, found a JSON value that is not an object"
        ),
        ("{\"domain\": \"a\", \"prompt\": \"p\"}", "x.jsonl:1: missing required field 'id'"),
        (
            "{\"id\": 3, \"domain\": \"a\", \"prompt\": \"p\"}",
            "x.jsonl:1: field 'id' must be a non-empty string"
        ),
        (
            "{\"id\": \"a\", \"domain\": \"d\", \"prompt\": \"p\", \"reference\": 4}",
            "x.jsonl:1: field 'reference' must be a string"
        ),
        (
            "\n{\"id\": \"b\", \"domain\": \"boundary\", \"prompt\": \"p\", \"boundary\": [\"d\", \"d\"]}",
            "x.jsonl:2: a boundary prompt needs \"boundary\": [two different domains], found [\"d\",\"d\"]"
        ),
    ])
    func badLinesNameFileAndLine(line: String, message: String) {
        #expect {
            _ = try PromptSet.parse(Data(line.utf8), file: "x.jsonl")
        } throws: { error in
            "\(error)" == message
        }
    }

    @Test func crossReferencesAreChecked() {
        let a = AuditPrompt(id: "a", domain: "d", text: "t", file: "f", line: 1)
        #expect(
            throws: PromptFileError.duplicateID(
                id: "a", file: "f", line: 1, firstFile: "f", firstLine: 1)
        ) {
            try PromptSet(prompts: [a, a])
        }
        let orphan = AuditPrompt(
            id: "b", domain: "boundary", text: "t", parents: ["d", "nowhere"], file: "f", line: 2)
        #expect(
            throws: PromptFileError.unknownParentDomain(
                id: "b", file: "f", line: 2, domain: "nowhere")
        ) {
            try PromptSet(prompts: [a, orphan])
        }
        let lonely = AuditPrompt(id: "c", domain: "d", text: "t", pair: "zz", file: "f", line: 3)
        #expect(
            throws: PromptFileError.badPair(
                id: "c", file: "f", line: 3, reason: "partner 'zz' not found")
        ) {
            try PromptSet(prompts: [a, lonely])
        }
        let oneWay = AuditPrompt(id: "e", domain: "d", text: "t", pair: "a", file: "f", line: 4)
        #expect(
            throws: PromptFileError.badPair(
                id: "e", file: "f", line: 4, reason: "partner 'a' does not point back")
        ) {
            try PromptSet(prompts: [a, oneWay])
        }
    }

    @Test func missingDirectoryIsReported() {
        #expect(throws: PromptFileError.notADirectory(path: "/nonexistent/prompts")) {
            try PromptSet(directory: URL(fileURLWithPath: "/nonexistent/prompts"))
        }
    }
}

@Suite struct ThresholdTests {
    @Test func setChangesOneValueAndKeepsTheDefault() throws {
        var t = AuditThresholds()
        #expect(t[AuditThresholds.Name.top3Fail] == 0.60)
        try t.apply("distribution.top3.fail=0.7")
        #expect(t[AuditThresholds.Name.top3Fail] == 0.7)
        let entry = try #require(t.all.first { $0.name == "distribution.top3.fail" })
        #expect(entry.defaultValue == 0.60)
    }

    @Test func everyNameIsUniqueAndEveryDefaultInRange() {
        let all = AuditThresholds().all
        #expect(Set(all.map(\.name)).count == all.count)
        for t in all {
            #expect(t.minimum <= t.defaultValue && t.defaultValue <= t.maximum, "\(t.name)")
            #expect(!t.meaning.isEmpty)
        }
    }

    @Test(arguments: [
        ("nonsense=1", "unknown threshold 'nonsense'"),
        (
            "distribution.top3.fail=abc",
            "threshold distribution.top3.fail expects a number, got 'abc'"
        ),
        (
            "distribution.top3.fail=1.5",
            "threshold distribution.top3.fail must lie in 0.0...1.0, got 1.5"
        ),
        ("distribution.top3.fail", "expected NAME=VALUE, got 'distribution.top3.fail'"),
    ])
    func badAssignmentsAreRefused(text: String, start: String) {
        var t = AuditThresholds()
        #expect {
            try t.apply(text)
        } throws: { error in
            "\(error)".hasPrefix(start)
        }
    }
}

@Suite struct PlanTests {
    @Test func stabilitySetIsTheFirstTenOfEachDomain() throws {
        let set = try PromptSet(directory: samplePromptsURL)
        let plan = AuditPlan(prompts: set, quick: false, threads: 2)
        #expect(plan.stability.count == 100)
        for domain in set.domains {
            let expected = set.prompts(in: domain).prefix(10).map(\.id)
            #expect(plan.stability.filter { $0.domain == domain }.map(\.id) == Array(expected))
        }
        #expect(plan.prompts.count == 739)
        #expect(plan.rerunThreads == [1, 3])
    }

    @Test func quickPlanKeepsEveryKindSmall() throws {
        let set = try PromptSet(directory: samplePromptsURL)
        let plan = AuditPlan(prompts: set, quick: true, threads: 1)
        #expect(plan.boundary.count == 5)
        #expect(plan.pairs.count == 5)
        #expect(Set(plan.pairs.map(\.0.domain)).count == 5)
        #expect(plan.stability.count == 20)
        #expect(plan.rerunThreads == [3])
        #expect(plan.prompts.count == 10 * 4 + 10 + 5)
        #expect(!plan.otherWork.contains { w in plan.stability.contains { $0.id == w.id } })
    }
}

@Suite struct DistributionTests {
    /// One layer of 8 experts whose counts the test writes, as a single prompt's routing.
    private func data(_ counts: [Int]) throws -> AuditData {
        let set = try PromptSet(prompts: [AuditPrompt(id: "p", domain: "d", text: "x")])
        let plan = AuditPlan(prompts: set, quick: false, threads: 1)
        var data = AuditData(model: ScriptedSubject(router: .hashed, layers: 1).model, plan: plan)
        data.runs["p"] = PromptRun(
            routing: RoutingCounts(tokens: counts.reduce(0, +) / 2, counts: [counts]),
            scoredTokens: 1, logLikelihood: -1)
        return data
    }

    @Test func topThreeShareAtTheThresholdPassesAndAboveFails() throws {
        // 60 of 100 activations on the top three: not above 60 %
        let at = try data([30, 20, 10, 10, 10, 10, 6, 4])
        let (section, checks) = DistributionAnalysis.run(data: at, thresholds: AuditThresholds())
        #expect(abs(section.layers[0].top3Share - 0.60) < 1e-12)
        #expect(checks.first { $0.id == "distribution.top3" }?.verdict == .warn)

        // 62 of 102
        let above = try data([32, 20, 10, 10, 10, 10, 6, 4])
        let (_, failing) = DistributionAnalysis.run(data: above, thresholds: AuditThresholds())
        #expect(failing.first { $0.id == "distribution.top3" }?.verdict == .fail)

        // the same load passes a raised threshold
        var raised = AuditThresholds()
        try raised.set("distribution.top3.fail", to: 0.65)
        try raised.set("distribution.top3.warn", to: 0.65)
        let (_, relaxed) = DistributionAnalysis.run(data: above, thresholds: raised)
        #expect(relaxed.first { $0.id == "distribution.top3" }?.verdict == .pass)
    }

    @Test func deadAndRareExpertsAreNamed() throws {
        let d = try data([20, 20, 20, 20, 18, 1, 1, 0])
        let (section, checks) = DistributionAnalysis.run(data: d, thresholds: AuditThresholds())
        #expect(section.layers[0].deadExperts == [7])
        // relative load of 1 in 100 over 8 experts is 0.08: rare
        #expect(section.layers[0].rareExperts == [5, 6])
        #expect(checks.first { $0.id == "distribution.dead" }?.verdict == .warn)
        #expect(abs(section.coverage - 7.0 / 8) < 1e-12)
    }

    @Test func topThreeRuleDoesNotApplyToFourExperts() throws {
        let set = try PromptSet(prompts: [AuditPrompt(id: "p", domain: "d", text: "x")])
        var d = AuditData(
            model: ScriptedSubject(router: .hashed, layers: 1, experts: 4).model,
            plan: AuditPlan(prompts: set, quick: false, threads: 1))
        d.runs["p"] = PromptRun(
            routing: RoutingCounts(tokens: 20, counts: [[10, 10, 10, 10]]), scoredTokens: 1,
            logLikelihood: -1)
        let (_, checks) = DistributionAnalysis.run(data: d, thresholds: AuditThresholds())
        #expect(checks.first { $0.id == "distribution.top3" }?.verdict == .notApplicable)
    }
}

@Suite struct ProtocolTests {
    @Test func collapsedRouterFailsRoutingDistribution() throws {
        let set = try PromptSet(directory: samplePromptsURL)
        let report = try audit(ScriptedSubject(router: .collapsed), prompts: set)
        #expect(check(report, "distribution.top3")?.verdict == .fail)
        #expect(check(report, "domain.collapse")?.verdict == .fail)
        #expect(check(report, "domain.batch")?.verdict == .fail)
        #expect(report.verdict == .fail)
        #expect(report.exitStatus == 1)
        // experts 0 and 1 take every activation: the top-3 share is 100 %
        #expect(report.distribution.layers.allSatisfy { $0.top3Share == 1 })
        #expect(report.distribution.layers.allSatisfy { $0.deadExperts == [2, 3, 4, 5, 6, 7] })
    }

    @Test func hashedRouterPassesRoutingDistribution() throws {
        let set = try PromptSet(directory: samplePromptsURL)
        let report = try audit(ScriptedSubject(router: .hashed), prompts: set, quick: false)
        let top3 = try #require(check(report, "distribution.top3"))
        #expect(top3.verdict == .pass, "\(top3.summary)")
        #expect(check(report, "domain.collapse")?.verdict == .pass)
        #expect(check(report, "stability.identical")?.verdict == .pass)
        // the counts of every layer sum to tokens × k
        for layer in report.distribution.layers {
            #expect(layer.load.reduce(0, +) == 2 * report.distribution.tokens)
        }
        #expect(report.stability.prompts.count == 100)
        #expect(report.stability.reruns.map(\.threads) == [1, 3])
    }

    @Test func fragileDecisionsThatFlipWarnAndRobustOnesFail() throws {
        let set = try smallPromptSet()
        let fragile = try audit(ScriptedSubject(router: .fragile), prompts: set, threads: 2)
        let flip = try #require(check(fragile, "stability.identical"))
        #expect(flip.verdict == .warn, "\(flip.summary)")
        #expect(fragile.stability.reruns[0].differing > 0)
        #expect(
            fragile.stability.reruns[0].differing == fragile.stability.reruns[0].differingFragile)
        #expect(check(fragile, "stability.fragile")?.verdict == .warn)

        let leaky = try audit(ScriptedSubject(router: .leaky), prompts: set, threads: 2)
        #expect(check(leaky, "stability.identical")?.verdict == .fail)
    }

    @Test func boundaryPromptOfUnseenWordsIsFar() throws {
        let report = try audit(ScriptedSubject(router: .hashed), prompts: try smallPromptSet())
        let unseen = try #require(report.boundary.prompts.first { $0.id == "b-1" })
        #expect(unseen.distances.count == 2)
        #expect(report.boundary.pairs.count == 1)
        // a rewording that only reorders words routes identically
        #expect(report.boundary.pairs[0].distance == 0)
        #expect(check(report, "boundary.rewording")?.verdict == .pass)
    }

    @Test func lowScoringDomainAndOutlierAreNamed() throws {
        var subject = ScriptedSubject(router: .hashed)
        // every gamma word scores −4: 2.25 below the mean of the group means (alpha −1, beta −1,
        // boundary −1, gamma −4)
        for word in ["bonjour", "merci", "maison", "chat", "soleil", "livre", "pomme"] {
            subject.scores[word] = -4
        }
        let report = try audit(subject, prompts: try smallPromptSet(), quick: false)
        let gamma = try #require(report.variance.domains.first { $0.domain == "gamma" })
        #expect(abs(gamma.mean - -4) < 1e-12)
        #expect(abs(gamma.gap - 2.25) < 1e-12)
        #expect(check(report, "variance.domains")?.verdict == .fail)
        #expect(report.variance.betweenVariance > 0)
        #expect(report.variance.withinVariance == 0)
    }
}

@Suite struct ReportTests {
    @Test func reportsCarryEveryCheckAndThreshold() throws {
        let set = try smallPromptSet()
        let report = try audit(ScriptedSubject(router: .collapsed), prompts: set)
        let markdown = MarkdownReport.render(report)
        let html = HTMLReport.render(report)
        for c in report.checks {
            #expect(markdown.contains(c.title))
            #expect(html.contains(SVGHeatmap.escape(c.title)))
        }
        for t in report.thresholds {
            #expect(markdown.contains("`\(t.name)`"))
        }
        // step 1 heatmap: one cell per layer and expert, plus the per-domain maps
        let cells = html.components(separatedBy: "<rect").count - 1
        let layerCells = 4 * 8
        let domainCells = 4 * 3 * 8
        let divergenceCells = 3 * 3
        let legendCells = 60 * 3
        #expect(cells == layerCells + domainCells + divergenceCells + legendCells)
        #expect(markdown.contains("L0     ##xxxxxx"))

        let decoded = try AuditReport.decode(try report.json())
        #expect(decoded.checks == report.checks)
        #expect(decoded.verdict == .fail)
    }

    @Test func progressLineShowsShareAndTimeLeft() {
        let line = ProgressBar.line(
            AuditProgress(phase: "prompts", done: 25, total: 100), elapsed: 30, width: 10)
        #expect(line == "audit prompts   [##--------]  25%  1m30s left")
        #expect(ProgressBar.duration(3725) == "1h02m")
    }
}

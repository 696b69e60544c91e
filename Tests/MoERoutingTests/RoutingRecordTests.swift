import Testing

@testable import MoERouting

@Suite struct RoutingRecordTests {
    @Test(arguments: [
        // probabilities, chosen, expected margin
        ([0.5, 0.3, 0.15, 0.05] as [Float], [0, 1] as [Int32], Float(0.15)),
        ([0.1, 0.6, 0.2, 0.1], [1], Float(0.4)),
        ([0.25, 0.25, 0.25, 0.25], [2, 0], Float(0)),
        ([0.7, 0.3], [0, 1], Float(0)),
    ])
    func marginIsGapBetweenLastChosenAndBestLeftOut(
        probabilities: [Float], chosen: [Int32], expected: Float
    ) {
        let record = RoutingRecord(
            layer: 0, logits: [], probabilities: probabilities, experts: chosen,
            weights: chosen.map { probabilities[Int($0)] })
        #expect(abs(record.margin - expected) < 1e-6)
    }
}

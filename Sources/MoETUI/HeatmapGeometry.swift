import Foundation

/// How the expert axis of the heatmap maps onto columns: cells of 1 to 3 columns, experts
/// binned when they outnumber the columns, and a scroll offset when zoomed in past the pane.
struct HeatmapGeometry: Equatable {
    /// Experts on the axis (E).
    let expertCount: Int
    /// Columns per cell.
    let cellWidth: Int
    /// Experts per cell (1 unless binned).
    let binSize: Int
    /// Cells on the whole axis: ceil(E / binSize).
    let binCount: Int
    /// Cells that fit in the pane.
    let visibleBins: Int
    /// First cell shown.
    let firstBin: Int
    /// The zoom steps that change anything at this width.
    let zoomLimits: ClosedRange<Int>

    /// Widest cell: six coloured columns and a gap.
    static let maximumCellWidth = 7

    /// Coloured columns of a cell: cells of three columns or more keep one as a gap.
    static func paintedWidth(_ cellWidth: Int) -> Int { cellWidth >= 3 ? cellWidth - 1 : cellWidth }

    /// Geometry for `expertCount` experts in `axisWidth` columns at `zoom`, scrolled so that
    /// `selectedExpert` is visible (centred when the axis scrolls).
    init(expertCount: Int, axisWidth: Int, zoom: Int, selectedExpert: Int) {
        let e = max(1, expertCount)
        let a = max(1, axisWidth)
        self.expertCount = e
        let limits = Self.limits(expertCount: e, axisWidth: a)
        self.zoomLimits = limits
        let z = min(max(zoom, limits.lowerBound), limits.upperBound)
        let (cellWidth, binSize) = Self.cell(expertCount: e, axisWidth: a, zoom: z)
        self.cellWidth = cellWidth
        self.binSize = binSize
        self.binCount = (e + binSize - 1) / binSize
        self.visibleBins = min(binCount, max(1, a / cellWidth))
        let selectedBin = min(max(0, selectedExpert), e - 1) / binSize
        let centred = selectedBin - visibleBins / 2
        self.firstBin = min(max(0, centred), binCount - visibleBins)
    }

    /// Cell width and bin size at a zoom step: columns per expert = (axis / E) * 2^zoom.
    static func cell(expertCount: Int, axisWidth: Int, zoom: Int) -> (width: Int, bin: Int) {
        let columnsPerExpert = Double(axisWidth) / Double(expertCount) * pow(2, Double(zoom))
        if columnsPerExpert >= 1 {
            return (min(maximumCellWidth, Int(columnsPerExpert)), 1)
        }
        return (1, min(expertCount, Int((1 / columnsPerExpert).rounded(.up))))
    }

    /// Zoom steps that change the picture: in until a cell is as wide as it gets and holds
    /// one expert, out until the axis has at most four cells.
    static func limits(expertCount: Int, axisWidth: Int) -> ClosedRange<Int> {
        var upper = 0
        while upper < 12 {
            let (width, bin) = cell(expertCount: expertCount, axisWidth: axisWidth, zoom: upper)
            if width >= maximumCellWidth && bin == 1 { break }
            upper += 1
        }
        var lower = 0
        while lower > -8 {
            let (_, bin) = cell(expertCount: expertCount, axisWidth: axisWidth, zoom: lower - 1)
            if (expertCount + bin - 1) / bin < 4 { break }
            lower -= 1
        }
        return min(lower, 0)...max(upper, 0)
    }

    /// Experts in a cell.
    func experts(inBin bin: Int) -> Range<Int> {
        bin * binSize..<min(expertCount, (bin + 1) * binSize)
    }
}

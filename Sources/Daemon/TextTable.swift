// LTODaemon: the aligned columns of every table the commands print (stats, config, status,
// explain --list), sized to the longest value of each column.

/// Rows of cells printed in columns, each as wide as its longest cell, two spaces apart,
/// without trailing spaces. A row with one cell is a heading and does not widen a column.
struct TextTable {
    /// How a column is aligned: words to the left, figures to the right.
    enum Alignment { case left, right }

    var rows: [[String]] = []
    let alignments: [Alignment]

    init(_ alignments: [Alignment]) { self.alignments = alignments }

    mutating func heading(_ text: String) { rows.append([text]) }
    mutating func row(_ cells: String...) { rows.append(cells) }
    mutating func row(_ cells: [String]) { rows.append(cells) }

    var text: String {
        var widths: [Int] = []
        for row in rows where row.count > 1 {
            for (i, cell) in row.enumerated() {
                if i == widths.count { widths.append(0) }
                widths[i] = max(widths[i], cell.count)
            }
        }
        return rows.map { row in
            guard row.count > 1 else { return (row.first ?? "") + "\n" }
            var line = ""
            for (i, cell) in row.enumerated() {
                let last = i == row.count - 1
                let alignment = i < alignments.count ? alignments[i] : .left
                if i > 0 { line += "  " }
                switch alignment {
                case .right: line += cell.leftPadded(to: widths[i])
                case .left: line += last ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
                }
            }
            return String(line.reversed().drop { $0 == " " }.reversed()) + "\n"
        }.joined()
    }
}

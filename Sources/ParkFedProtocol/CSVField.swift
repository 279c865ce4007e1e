/// One cell of a CSV export (RFC 4180), safe to open in a spreadsheet.
///
/// A cell that a spreadsheet would read as a formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return)
/// is neutralised with a leading `'`, as OWASP's CSV-injection advice says, unless it is a plain integer (a negative
/// net position stays a number). Cells with a comma, quote or line break are quoted.
public enum CSVField {
    public static func escape(_ text: String) -> String {
        var cell = text
        if let first = cell.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Int64(cell) == nil {
            cell = "'" + cell
        }
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One CSV line of escaped cells.
    public static func line(_ cells: [String]) -> String { cells.map(escape).joined(separator: ",") }
}

import Foundation

/// Charts drawn on the server as inline SVG (no script): numbers in, markup out, labels escaped.
public enum PageCharts {
    /// Horizontal bars for signed values around a zero line (net positions: receivers right, payers left).
    public static func signedBars(_ items: [(label: String, value: Int64, text: String)]) -> String {
        let rowHeight = 26, labelWidth = 90, width = 640, half = (width - labelWidth - 120) / 2
        let largest = max(1, items.map { abs($0.value) }.max() ?? 1)
        let zero = labelWidth + half
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='100%' viewBox='0 0 \(width) \(rowHeight * max(1, items.count) + 10)'>"
        svg += "<line x1='\(zero)' y1='0' x2='\(zero)' y2='\(rowHeight * max(1, items.count) + 10)' stroke='#5b6b7c'/>"
        for (row, item) in items.enumerated() {
            let y = row * rowHeight + 5
            let length = Int((Double(abs(item.value)) / Double(largest) * Double(half)).rounded())
            let x = item.value >= 0 ? zero : zero - length
            let colour = item.value >= 0 ? "#1b7f3b" : "#b3261e"
            svg += "<text x='0' y='\(y + 16)'>\(escape(item.label))</text>"
            svg +=
                "<rect x='\(x)' y='\(y)' width='\(max(1, length))' height='\(rowHeight - 8)' fill='\(colour)'><title>\(escape(item.label)) \(escape(item.text))</title></rect>"
            let textX = item.value >= 0 ? zero + length + 6 : zero + 6
            svg += "<text x='\(textX)' y='\(y + 16)'>\(escape(item.text))</text>"
        }
        return svg + "</svg>"
    }

    /// Vertical bars per hour (0-23) with an optional capacity line.
    public static func hourly(_ counts: [Int], capacity: Int?) -> String {
        let width = 24 * 26 + 40, height = 160, plot = 120
        let top = max(1, max(counts.max() ?? 0, capacity ?? 0))
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='100%' viewBox='0 0 \(width) \(height)'>"
        for (hour, count) in counts.enumerated() {
            let h = Int((Double(count) / Double(top) * Double(plot)).rounded())
            let x = 30 + hour * 26
            svg +=
                "<rect x='\(x)' y='\(10 + plot - h)' width='20' height='\(max(h, count > 0 ? 1 : 0))' fill='#0b5cad'><title>\(hour):00 \(count)</title></rect>"
            if hour % 3 == 0 { svg += "<text x='\(x)' y='\(plot + 28)'>\(hour)</text>" }
        }
        if let capacity {
            let y = 10 + plot - Int((Double(capacity) / Double(top) * Double(plot)).rounded())
            svg += "<line x1='26' y1='\(y)' x2='\(width)' y2='\(y)' stroke='#b3261e' stroke-dasharray='4 3'/>"
            svg += "<text x='0' y='\(y + 4)'>\(capacity)</text>"
        }
        return svg + "</svg>"
    }

    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}

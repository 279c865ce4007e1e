import Foundation

/// Where the example federation (`partners/`: parks, products, promotions) is, for the demo, the benchmarks and the
/// simulator. In order: `$PARKFED_PARTNERS`; `partners/` in the working directory; the installed layout
/// `<prefix>/share/parkfed/partners` beside `<prefix>/bin/parkfed`. Never the source checkout the command was
/// built from: a copied or installed command must not depend on it (tests name ``checkout`` themselves).
public enum PartnerDirectory {
    /// The first of the places above that holds a `parks/` or `products.json`, else `partners` (whose absence
    /// the importer then reports by name).
    public static var located: String {
        candidates.first { exists($0) } ?? "partners"
    }

    /// Every place looked at, in order.
    public static var candidates: [String] {
        var list: [String] = []
        if let env = ProcessInfo.processInfo.environment["PARKFED_PARTNERS"], !env.isEmpty { list.append(env) }
        list.append(FileManager.default.currentDirectoryPath + "/partners")
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        list.append(executable.deletingLastPathComponent().appendingPathComponent("share/parkfed/partners").path)
        return list
    }

    /// `partners/` of the source checkout this module was compiled from (for tests and `swift run`).
    public static let checkout: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("partners").path
    }()

    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/products.json")
    }
}

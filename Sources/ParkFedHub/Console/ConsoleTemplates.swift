import Foundation
import Mustache

/// The console's page templates (swift-mustache), kept as resources of this module (`Console/Templates`).
///
/// They are found next to the running executable (SwiftPM's resource bundle), under `$PARKFED_CONSOLE_TEMPLATES`,
/// or in the installed layout (`<prefix>/share/parkfed/console`). A hub whose templates are missing serves the API
/// as usual and answers console pages with a plain 503 that says so; the bundle is never looked up at start-up.
struct ConsoleTemplates: Sendable {
    let library: MustacheLibrary

    static let bundleName = "ParkFederation_ParkFedHub.resources"

    /// Where the templates are, if anywhere.
    static func directory() -> String? {
        let files = FileManager.default
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["PARKFED_CONSOLE_TEMPLATES"], !explicit.isEmpty { candidates.append(explicit) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for base in [executable, Bundle.main.bundleURL] {
            candidates.append(base.appendingPathComponent(bundleName).appendingPathComponent("Templates").path)
            candidates.append(base.deletingLastPathComponent().appendingPathComponent("share/parkfed/console").path)
        }
        return candidates.first { files.fileExists(atPath: ($0 as NSString).appendingPathComponent("layout.mustache")) }
    }

    /// Loads every `*.mustache` file of the directory, named by its file name.
    static func load() throws -> ConsoleTemplates {
        guard let directory = directory() else { throw HubError(.io, "the console's templates are not installed next to the parkfed binary") }
        var library = MustacheLibrary()
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file.hasSuffix(".mustache") {
            let text = try String(contentsOfFile: (directory as NSString).appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
        }
        return ConsoleTemplates(library: library)
    }

    func render(_ name: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: name) ?? "template \(name) missing"
    }
}

import Foundation
import Mustache
import ParkFedDomain

/// Server-rendered pages from swift-mustache templates that live as resources beside the module that serves them
/// (the hub console's in ParkFedHub, the node console's in ParkFedNode), with the consoles' one style sheet from
/// this module.
///
/// A module's templates are found in its SwiftPM resource bundle next to the running executable, under
/// `$PARKFED_CONSOLE_TEMPLATES/<module>`, or in the installed layout (`<prefix>/share/parkfed/<module>`). A server
/// whose templates are missing serves its API as usual and answers pages with a plain 503 that says so; nothing is
/// looked up at start-up beyond these files.
public struct PageTemplates: Sendable {
    let library: MustacheLibrary
    /// The consoles' style sheet, inlined into every page (`{{{css}}}`).
    public let css: String

    /// The directory holding `bundle`'s `Templates` (or `directory` for this module's own resources), if anywhere.
    static func directory(bundle: String, subdirectory: String, module: String) -> String? {
        let files = FileManager.default
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["PARKFED_CONSOLE_TEMPLATES"], !explicit.isEmpty {
            candidates.append((explicit as NSString).appendingPathComponent(module))
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for base in [executable, Bundle.main.bundleURL] {
            candidates.append(base.appendingPathComponent(bundle).appendingPathComponent(subdirectory).path)
            candidates.append(base.deletingLastPathComponent().appendingPathComponent("share/parkfed/\(module)").path)
        }
        return candidates.first { files.fileExists(atPath: $0) }
    }

    /// Loads every `*.mustache` file of `module`'s `Templates` resources, each named by its file name.
    public static func load(module: String) throws -> PageTemplates {
        let bundle = "ParkFederation_\(module).resources"
        guard let templates = directory(bundle: bundle, subdirectory: "Templates", module: module) else {
            throw PageError(.templatesMissing, "the page templates of \(module) are not installed next to the parkfed binary")
        }
        let styles = directory(bundle: "ParkFederation_ParkFedHTTP.resources", subdirectory: "Resources", module: "ParkFedHTTP")
        let css = styles.flatMap { try? String(contentsOfFile: ($0 as NSString).appendingPathComponent("console.css"), encoding: .utf8) } ?? ""
        var library = MustacheLibrary()
        for file in try FileManager.default.contentsOfDirectory(atPath: templates) where file.hasSuffix(".mustache") {
            let text = try String(contentsOfFile: (templates as NSString).appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
        }
        return PageTemplates(library: library, css: css)
    }

    /// ``load(module:)`` as a result: a console keeps serving its API when its pages cannot be drawn.
    public static func loaded(module: String) -> Result<PageTemplates, PageError> {
        Result { () throws(PageError) in
            do { return try load(module: module) } catch let error as PageError { throw error } catch {
                throw PageError(.templatesMissing, "\(error)")
            }
        }
    }

    /// `template` rendered with `context` (and the style sheet).
    public func render(_ template: String, _ context: [String: Any]) -> String {
        var context = context
        context["css"] = css
        return library.render(context, withTemplate: template) ?? "template \(template) missing"
    }
}

/// A page that cannot be served (``CodedError``).
public typealias PageError = CodedError<PageErrorKind>

public enum PageErrorKind: ErrorKind {}

extension CodedError<PageErrorKind>.Code {
    public static let templatesMissing = Self(rawValue: "templates_missing")
}

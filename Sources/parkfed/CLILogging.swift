import Logging

enum CLILogging {
    /// A logger writing structured key=value lines to standard error.
    static func logger(_ label: String, level: String) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }

    static var quiet: Logger {
        var logger = Logger(label: "parkfed.cli") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return logger
    }
}

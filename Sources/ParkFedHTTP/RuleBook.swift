/// The rules a router's routes were registered with (who may call each), collected while the router is built so
/// that a test can walk `Router.routes` against them.
public final class RuleBook<Rule: Sendable>: @unchecked Sendable {
    public private(set) var rules: [Rule] = []
    public init() {}
    public func add(_ rule: Rule) { rules.append(rule) }
}

import Hummingbird
import ParkFedProtocol

extension Parameters {
    /// A path parameter that must be an identifier (``Check/identifier(_:_:)``: a card, pass, request, batch or
    /// serial id); 400 `invalid_query` naming it otherwise, before anything is looked up.
    public func identifier(_ name: String) throws -> String {
        guard let value = get(name) else {
            throw ProblemDetails(status: 400, code: "invalid_query", title: "\(name) missing")
        }
        do { try Check.identifier(value, name) } catch {
            throw ProblemDetails(status: 400, code: "invalid_query", title: "Invalid \(name)", detail: error.message)
        }
        return value
    }
}

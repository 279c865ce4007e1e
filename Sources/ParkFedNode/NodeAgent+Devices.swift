import Crypto
import Foundation
import ParkFedDomain
import ParkFedCrypto
import ParkFedProtocol
import ParkFedStore

/// Per-device credentials for the local API: each gate, window, kiosk and operator console holds its own bearer
/// token (`pfd_…`, issued once by `parkfed node device add`); the node keeps only its SHA-256, so nothing else on
/// the park's network can sell passes or record entries, and one lost device is revoked alone.
extension NodeAgent {
    /// Issues a credential for a new device; the token is returned once and never stored.
    public func addDevice(name: String, role: DeviceRecord.Role, now: Date = Date()) async throws -> (id: String, token: String) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        do { try Check.identifier(trimmed, "device name") } catch { throw NodeError(.invalidConfiguration, error.message) }
        let token = "pfd_" + Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
        let id = "dev-" + UUIDv7.make(now: now)
        do {
            try await store.addDevice(id: id, name: trimmed, role: role, tokenHash: Self.deviceTokenHash(token), now: now)
        } catch {
            throw NodeError(.invalidConfiguration, "cannot add device \(trimmed) (is the name taken?): \(error)")
        }
        return (id, token)
    }

    /// Revokes a device's credential at once (by id or name); its next request, and its console session, are
    /// refused. From the console (`keepingAnOperator`), the last active operator device cannot be revoked: that
    /// would lock the park out of its own console (the command line on the node's machine still can).
    /// - Returns: whether an active device was revoked.
    public func revokeDevice(_ idOrName: String, keepingAnOperator: Bool = false, now: Date = Date()) async throws -> Bool {
        if keepingAnOperator {
            let active = try await store.devices().filter { !$0.revoked }
            let operators = active.filter { $0.role == .operator }
            if operators.count == 1, let last = operators.first, last.id == idOrName || last.name == idOrName {
                throw Refusal(
                    .conflict, code: "last_operator_device", title: "The last operator device",
                    detail: "\(last.name) is the park's only operator device; add another before revoking it")
            }
        }
        return try await store.revokeDevice(idOrName, now: now)
    }

    static func deviceTokenHash(_ token: String) -> String { Hex.encode(SHA256.hash(data: Data(token.utf8))) }

    /// The device presenting `authorization` (`Bearer pfd_…`), if it may act in one of `roles`.
    public func device(authorization: String?, roles: Set<DeviceRecord.Role>) async throws -> DeviceRecord {
        guard let authorization, authorization.hasPrefix("Bearer "), case let token = String(authorization.dropFirst(7)), token.hasPrefix("pfd_") else {
            throw Refusal(
                .unauthenticated, code: "device_credential_required", title: "Device credential required",
                detail: "send Authorization: Bearer <token> issued by `parkfed node device add`")
        }
        return try await device(tokenHash: Self.deviceTokenHash(token), roles: roles)
    }

    /// The device whose credential hashes to `tokenHash` (a console session keeps only the hash), if it is not
    /// revoked and may act in one of `roles`.
    func device(tokenHash: String, roles: Set<DeviceRecord.Role>) async throws -> DeviceRecord {
        guard let device = try await store.device(tokenHash: tokenHash), !device.revoked else {
            throw Refusal(.unauthenticated, code: "unknown_device", title: "Unknown or revoked device credential")
        }
        guard roles.contains(device.role) || device.role == .operator else {
            throw Refusal(
                .forbidden, code: "forbidden_for_device", title: "Not for this device",
                detail: "a \(device.role.rawValue) device cannot do this (needs \(roles.map(\.rawValue).sorted().joined(separator: " or ")))")
        }
        return device
    }
}

extension NodeAgent {
    /// Sets the park's capacity (entries per local day and hour; people inside at once) now and in `node.json`.
    public func setCapacity(daily: Int?, hourly: Int?, instantaneous: Int? = nil) throws {
        var configuration = self.configuration.withLockedValue({ $0 })
        configuration.capacityDaily = daily
        configuration.capacityHourly = hourly
        configuration.capacityInstantaneous = instantaneous
        try configuration.save(directory)
        self.configuration.withLockedValue { $0 = configuration }
    }
}

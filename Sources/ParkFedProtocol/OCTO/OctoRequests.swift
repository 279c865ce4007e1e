import Foundation

/// The OCTO supplier API's request bodies. OCTO clients send members this federation does not use
/// (`emailReceipt`, ...), so unknown members are ignored; every member used is checked by the hub before anything
/// is written.
extension Octo {
    public struct UnitQuantity: Decodable, Sendable, Hashable {
        public var id: String
        public var quantity: Int
    }

    /// `POST /availability`.
    public struct AvailabilityRequest: Decodable, Sendable, Hashable {
        public var productId: String
        public var optionId: String
        public var localDate: String?
        public var localDateStart: String?
        public var localDateEnd: String?
        public var availabilityIds: [String]?
        public var units: [UnitQuantity]?
    }

    /// `POST /availability/calendar`.
    public struct CalendarRequest: Decodable, Sendable, Hashable {
        public var productId: String
        public var optionId: String
        public var localDateStart: String
        public var localDateEnd: String
        public var units: [UnitQuantity]?
    }

    /// A holder's identity document: the federation's real-name extension of OCTO's contact (a pass carries its
    /// holder's name and document, as a window sale does). Sealed at the hub at once; never shown back.
    public struct IdentityDocumentInput: Decodable, Sendable, Hashable {
        /// `resident_id`, `passport`, `hk_macau_permit`, `taiwan_permit`, `foreign_permanent_resident`, `other`.
        public var type: String
        public var number: String
    }

    public struct ContactInput: Decodable, Sendable, Hashable {
        public var fullName: String?
        public var firstName: String?
        public var lastName: String?
        public var emailAddress: String?
        public var phoneNumber: String?
        public var locales: [String]?
        public var postalCode: String?
        public var country: String?
        public var notes: String?
        public var identityDocument: IdentityDocumentInput?

        /// The holder's name: `fullName`, else first and last name.
        public var name: String? {
            if let fullName, !fullName.trimmingCharacters(in: .whitespaces).isEmpty { return fullName.trimmingCharacters(in: .whitespaces) }
            let joined = [firstName, lastName].compactMap { $0?.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
            return joined.isEmpty ? nil : joined
        }
    }

    public struct UnitItemInput: Decodable, Sendable, Hashable {
        public var uuid: String?
        public var unitId: String
        public var resellerReference: String?
        public var contact: ContactInput?
    }

    /// `POST /bookings`: a reservation, on hold until it expires. Its `uuid` is the idempotency key.
    public struct BookingRequest: Decodable, Sendable, Hashable {
        public var uuid: String?
        public var productId: String
        public var optionId: String
        public var availabilityId: String
        public var expirationMinutes: Int?
        public var notes: String?
        public var resellerReference: String?
        public var unitItems: [UnitItemInput]
        public var contact: ContactInput?
    }

    /// `POST /bookings/{uuid}/confirm`.
    public struct ConfirmRequest: Decodable, Sendable, Hashable {
        public var resellerReference: String?
        public var contact: ContactInput?
        public var unitItems: [UnitItemInput]?
    }

    /// `POST /bookings/{uuid}/extend`.
    public struct ExtendRequest: Decodable, Sendable, Hashable {
        public var expirationMinutes: Int?
        public init(expirationMinutes: Int? = nil) { self.expirationMinutes = expirationMinutes }
    }

    /// `POST /bookings/{uuid}/cancel`.
    public struct CancelRequest: Decodable, Sendable, Hashable {
        public var reason: String?
        public var force: Bool?
        public init(reason: String? = nil, force: Bool? = nil) {
            self.reason = reason
            self.force = force
        }
    }

    /// `PATCH /bookings/{uuid}`: the references, notes and contact of a booking; a hold's expiry. OCTO's
    /// `expirationMinutes` is a string here (as the specification has it) or a number.
    public struct UpdateRequest: Decodable, Sendable, Hashable {
        public var resellerReference: String?
        public var notes: String?
        public var contact: ContactInput?
        public var expirationMinutes: Int?
        public var productId: String?
        public var optionId: String?
        public var availabilityId: String?
        public var unitItems: [UnitItemInput]?

        enum CodingKeys: String, CodingKey { case resellerReference, notes, contact, expirationMinutes, productId, optionId, availabilityId, unitItems }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            resellerReference = try container.decodeIfPresent(String.self, forKey: .resellerReference)
            notes = try container.decodeIfPresent(String.self, forKey: .notes)
            contact = try container.decodeIfPresent(ContactInput.self, forKey: .contact)
            productId = try container.decodeIfPresent(String.self, forKey: .productId)
            optionId = try container.decodeIfPresent(String.self, forKey: .optionId)
            availabilityId = try container.decodeIfPresent(String.self, forKey: .availabilityId)
            unitItems = try container.decodeIfPresent([UnitItemInput].self, forKey: .unitItems)
            if let number = try? container.decodeIfPresent(Int.self, forKey: .expirationMinutes) {
                expirationMinutes = number
            } else if let text = try container.decodeIfPresent(String.self, forKey: .expirationMinutes) {
                guard let number = Int(text) else {
                    throw DecodingError.dataCorruptedError(forKey: .expirationMinutes, in: container, debugDescription: "expirationMinutes is a number")
                }
                expirationMinutes = number
            } else {
                expirationMinutes = nil
            }
        }
    }
}

import Foundation

/// A member OCTO always sends, as `null` when it has no value (OCTO's schemas require such members to be present:
/// `"resellerReference": null`, not a missing key).
@propertyWrapper
public struct Nullable<Value: Encodable & Sendable & Hashable>: Encodable, Sendable, Hashable {
    public var wrappedValue: Value?
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// The OCTO supplier API's response bodies (OCTO API Specification 1.0), as the hub serves them under `/octo`.
/// The federation is the supplier; its combo products are OCTO products with one option (`DEFAULT`), their ticket
/// categories are units, time slots are start times (untimed products: opening hours). Money is in integer minor
/// units with the currency's precision, as OCTO's pricing capability has it.
public enum Octo {
    /// The capability the federation supports beside the core: retail and net prices.
    public static let pricingCapability = "octo/pricing"
    /// The default option of every product.
    public static let defaultOption = "DEFAULT"

    public struct Supplier: Encodable, Sendable, Hashable {
        public struct Contact: Encodable, Sendable, Hashable {
            @Nullable public var website: String?
            @Nullable public var email: String?
            @Nullable public var telephone: String?
            @Nullable public var address: String?
            public init(website: String?, email: String?, telephone: String?, address: String?) {
                self.website = website
                self.email = email
                self.telephone = telephone
                self.address = address
            }
        }
        public var id: String
        public var name: String
        public var endpoint: String
        public var contact: Contact
        public init(id: String, name: String, endpoint: String, contact: Contact) {
            self.id = id
            self.name = name
            self.endpoint = endpoint
            self.contact = contact
        }
    }

    /// Retail and net of one unit, booking or unit item (`octo/pricing`).
    public struct Pricing: Encodable, Sendable, Hashable {
        public var original: Int64
        public var retail: Int64
        public var net: Int64
        public var currency: String
        public var currencyPrecision: Int
        public var includedTaxes: [String] = []
        public init(original: Int64, retail: Int64, net: Int64, currency: String, currencyPrecision: Int = 2) {
            self.original = original
            self.retail = retail
            self.net = net
            self.currency = currency
            self.currencyPrecision = currencyPrecision
        }

        /// The sum of several prices of one currency.
        public static func total(_ parts: [Pricing], currency: String) -> Pricing {
            Pricing(
                original: parts.reduce(0) { $0 + $1.original }, retail: parts.reduce(0) { $0 + $1.retail }, net: parts.reduce(0) { $0 + $1.net },
                currency: currency)
        }
    }

    public struct UnitRestrictions: Encodable, Sendable, Hashable {
        public var minAge: Int
        public var maxAge: Int
        public var idRequired: Bool
        @Nullable public var minQuantity: Int?
        @Nullable public var maxQuantity: Int?
        public var paxCount: Int
        public var accompaniedBy: [String]
        public init(minAge: Int, maxAge: Int, idRequired: Bool, minQuantity: Int?, maxQuantity: Int?, paxCount: Int, accompaniedBy: [String] = []) {
            self.minAge = minAge
            self.maxAge = maxAge
            self.idRequired = idRequired
            self.minQuantity = minQuantity
            self.maxQuantity = maxQuantity
            self.paxCount = paxCount
            self.accompaniedBy = accompaniedBy
        }
    }

    public struct Unit: Encodable, Sendable, Hashable {
        public var id: String
        public var internalName: String
        @Nullable public var reference: String?
        public var type: String
        public var requiredContactFields: [String]
        public var restrictions: UnitRestrictions
        /// With `octo/pricing`: the unit's price.
        public var pricingFrom: [Pricing]?
        public init(
            id: String, internalName: String, reference: String?, type: String, requiredContactFields: [String], restrictions: UnitRestrictions,
            pricingFrom: [Pricing]?
        ) {
            self.id = id
            self.internalName = internalName
            self.reference = reference
            self.type = type
            self.requiredContactFields = requiredContactFields
            self.restrictions = restrictions
            self.pricingFrom = pricingFrom
        }
    }

    public struct OptionRestrictions: Encodable, Sendable, Hashable {
        @Nullable public var minUnits: Int?
        @Nullable public var maxUnits: Int?
        public init(minUnits: Int?, maxUnits: Int?) {
            self.minUnits = minUnits
            self.maxUnits = maxUnits
        }
    }

    public struct Option: Encodable, Sendable, Hashable {
        public var id: String
        public var `default`: Bool
        public var internalName: String
        @Nullable public var reference: String?
        public var availabilityLocalStartTimes: [String]
        public var cancellationCutoff: String
        public var cancellationCutoffAmount: Int
        public var cancellationCutoffUnit: String
        public var requiredContactFields: [String]
        public var restrictions: OptionRestrictions
        public var units: [Unit]
        public init(
            id: String, default: Bool, internalName: String, reference: String?, availabilityLocalStartTimes: [String], cancellationCutoff: String,
            cancellationCutoffAmount: Int, cancellationCutoffUnit: String, requiredContactFields: [String], restrictions: OptionRestrictions,
            units: [Unit]
        ) {
            self.id = id
            self.default = `default`
            self.internalName = internalName
            self.reference = reference
            self.availabilityLocalStartTimes = availabilityLocalStartTimes
            self.cancellationCutoff = cancellationCutoff
            self.cancellationCutoffAmount = cancellationCutoffAmount
            self.cancellationCutoffUnit = cancellationCutoffUnit
            self.requiredContactFields = requiredContactFields
            self.restrictions = restrictions
            self.units = units
        }
    }

    public struct Product: Encodable, Sendable, Hashable {
        public var id: String
        public var internalName: String
        @Nullable public var reference: String?
        public var locale: String
        public var timeZone: String
        public var allowFreesale: Bool
        public var instantConfirmation: Bool
        public var instantDelivery: Bool
        public var availabilityRequired: Bool
        public var availabilityType: String
        public var deliveryFormats: [String]
        public var deliveryMethods: [String]
        public var redemptionMethod: String
        public var options: [Option]
        public init(
            id: String, internalName: String, reference: String?, locale: String, timeZone: String, allowFreesale: Bool, availabilityType: String,
            options: [Option]
        ) {
            self.id = id
            self.internalName = internalName
            self.reference = reference
            self.locale = locale
            self.timeZone = timeZone
            self.allowFreesale = allowFreesale
            instantConfirmation = true
            instantDelivery = true
            availabilityRequired = true
            self.availabilityType = availabilityType
            deliveryFormats = ["QRCODE"]
            deliveryMethods = ["TICKET"]
            redemptionMethod = "DIGITAL"
            self.options = options
        }
    }

    public struct OpeningHours: Encodable, Sendable, Hashable {
        public var from: String
        public var to: String
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    public struct Availability: Encodable, Sendable, Hashable {
        public var id: String
        public var localDateTimeStart: String
        public var localDateTimeEnd: String
        public var allDay: Bool
        public var available: Bool
        public var status: String
        @Nullable public var vacancies: Int?
        @Nullable public var capacity: Int?
        @Nullable public var maxUnits: Int?
        public var utcCutoffAt: String
        public var openingHours: [OpeningHours]
        /// With `octo/pricing`: the price of the units asked about.
        public var pricing: Pricing?
        public init(
            id: String, localDateTimeStart: String, localDateTimeEnd: String, allDay: Bool, available: Bool, status: String, vacancies: Int?,
            capacity: Int?, maxUnits: Int?, utcCutoffAt: String, openingHours: [OpeningHours], pricing: Pricing?
        ) {
            self.id = id
            self.localDateTimeStart = localDateTimeStart
            self.localDateTimeEnd = localDateTimeEnd
            self.allDay = allDay
            self.available = available
            self.status = status
            self.vacancies = vacancies
            self.capacity = capacity
            self.maxUnits = maxUnits
            self.utcCutoffAt = utcCutoffAt
            self.openingHours = openingHours
            self.pricing = pricing
        }
    }

    public struct CalendarDay: Encodable, Sendable, Hashable {
        public var localDate: String
        public var available: Bool
        public var status: String
        @Nullable public var vacancies: Int?
        @Nullable public var capacity: Int?
        public var openingHours: [OpeningHours]
        public init(localDate: String, available: Bool, status: String, vacancies: Int?, capacity: Int?, openingHours: [OpeningHours]) {
            self.localDate = localDate
            self.available = available
            self.status = status
            self.vacancies = vacancies
            self.capacity = capacity
            self.openingHours = openingHours
        }
    }

    /// A contact as a booking shows it: the masked holder name only (never the document), as the visitor page.
    public struct Contact: Encodable, Sendable, Hashable {
        @Nullable public var fullName: String?
        @Nullable public var firstName: String?
        @Nullable public var lastName: String?
        @Nullable public var emailAddress: String?
        @Nullable public var phoneNumber: String?
        public var locales: [String]
        @Nullable public var postalCode: String?
        @Nullable public var country: String?
        @Nullable public var notes: String?
        public init(
            fullName: String? = nil, firstName: String? = nil, lastName: String? = nil, emailAddress: String? = nil, phoneNumber: String? = nil,
            locales: [String] = [], postalCode: String? = nil, country: String? = nil, notes: String? = nil
        ) {
            self.fullName = fullName
            self.firstName = firstName
            self.lastName = lastName
            self.emailAddress = emailAddress
            self.phoneNumber = phoneNumber
            self.locales = locales
            self.postalCode = postalCode
            self.country = country
            self.notes = notes
        }
    }

    public struct DeliveryOption: Encodable, Sendable, Hashable {
        public var deliveryFormat: String
        public var deliveryValue: String
        public init(deliveryFormat: String, deliveryValue: String) {
            self.deliveryFormat = deliveryFormat
            self.deliveryValue = deliveryValue
        }
    }

    public struct Ticket: Encodable, Sendable, Hashable {
        public var redemptionMethod: String = "DIGITAL"
        @Nullable public var utcRedeemedAt: String?
        public var deliveryOptions: [DeliveryOption]
        public init(utcRedeemedAt: String?, deliveryOptions: [DeliveryOption]) {
            self.utcRedeemedAt = utcRedeemedAt
            self.deliveryOptions = deliveryOptions
        }
    }

    public struct UnitItem: Encodable, Sendable, Hashable {
        public var uuid: String
        @Nullable public var resellerReference: String?
        @Nullable public var supplierReference: String?
        public var unitId: String
        public var unit: Unit
        public var status: String
        @Nullable public var utcRedeemedAt: String?
        public var contact: Contact
        @Nullable public var ticket: Ticket?
        public var pricing: Pricing?
        /// The federation's extension: the visitor's own page of the pass (QR, parks and entries left, state), the
        /// link a reseller texts the visitor; present once the booking is confirmed.
        public var visitorPageUrl: String?
        public init(
            uuid: String, resellerReference: String?, supplierReference: String?, unitId: String, unit: Unit, status: String, utcRedeemedAt: String?,
            contact: Contact, ticket: Ticket?, pricing: Pricing?, visitorPageUrl: String?
        ) {
            self.uuid = uuid
            self.resellerReference = resellerReference
            self.supplierReference = supplierReference
            self.unitId = unitId
            self.unit = unit
            self.status = status
            self.utcRedeemedAt = utcRedeemedAt
            self.contact = contact
            self.ticket = ticket
            self.pricing = pricing
            self.visitorPageUrl = visitorPageUrl
        }
    }

    public struct Cancellation: Encodable, Sendable, Hashable {
        /// `FULL`, `PARTIAL` or `NONE`.
        public var refund: String
        @Nullable public var reason: String?
        public var utcCancelledAt: String
        public init(refund: String, reason: String?, utcCancelledAt: String) {
            self.refund = refund
            self.reason = reason
            self.utcCancelledAt = utcCancelledAt
        }
    }

    public struct BookedAvailability: Encodable, Sendable, Hashable {
        public var id: String
        public var localDateTimeStart: String
        public var localDateTimeEnd: String
        public var allDay: Bool
        public var openingHours: [OpeningHours]
        public init(id: String, localDateTimeStart: String, localDateTimeEnd: String, allDay: Bool, openingHours: [OpeningHours]) {
            self.id = id
            self.localDateTimeStart = localDateTimeStart
            self.localDateTimeEnd = localDateTimeEnd
            self.allDay = allDay
            self.openingHours = openingHours
        }
    }

    public struct Booking: Encodable, Sendable, Hashable {
        public var id: String
        public var uuid: String
        public var testMode: Bool
        @Nullable public var resellerReference: String?
        @Nullable public var supplierReference: String?
        public var status: String
        public var utcCreatedAt: String
        @Nullable public var utcUpdatedAt: String?
        @Nullable public var utcExpiresAt: String?
        @Nullable public var utcRedeemedAt: String?
        @Nullable public var utcConfirmedAt: String?
        public var productId: String
        public var product: Product
        public var optionId: String
        public var option: Option
        public var cancellable: Bool
        @Nullable public var cancellation: Cancellation?
        public var freesale: Bool
        public var availabilityId: String
        public var availability: BookedAvailability
        public var contact: Contact
        @Nullable public var notes: String?
        public var deliveryMethods: [String]
        public var unitItems: [UnitItem]
        public var pricing: Pricing?
        public init(
            id: String, uuid: String, resellerReference: String?, supplierReference: String?, status: String, utcCreatedAt: String,
            utcUpdatedAt: String?, utcExpiresAt: String?, utcRedeemedAt: String?, utcConfirmedAt: String?, product: Product, option: Option,
            cancellable: Bool, cancellation: Cancellation?, freesale: Bool, availability: BookedAvailability, contact: Contact, notes: String?,
            unitItems: [UnitItem], pricing: Pricing?
        ) {
            self.id = id
            self.uuid = uuid
            testMode = false
            self.resellerReference = resellerReference
            self.supplierReference = supplierReference
            self.status = status
            self.utcCreatedAt = utcCreatedAt
            self.utcUpdatedAt = utcUpdatedAt
            self.utcExpiresAt = utcExpiresAt
            self.utcRedeemedAt = utcRedeemedAt
            self.utcConfirmedAt = utcConfirmedAt
            productId = product.id
            self.product = product
            optionId = option.id
            self.option = option
            self.cancellable = cancellable
            self.cancellation = cancellation
            self.freesale = freesale
            availabilityId = availability.id
            self.availability = availability
            self.contact = contact
            self.notes = notes
            deliveryMethods = ["TICKET"]
            self.unitItems = unitItems
            self.pricing = pricing
        }
    }

    /// A webhook's body (`booking_update`): the booking as `GET /bookings/{uuid}` shows it, with the event.
    public struct Webhook: Encodable, Sendable, Hashable {
        public var event: String
        public var webhookId: String
        public var booking: Booking
        public init(event: String, webhookId: String, booking: Booking) {
            self.event = event
            self.webhookId = webhookId
            self.booking = booking
        }
    }

    /// OCTO's error body: a machine code (`INVALID_PRODUCT_ID`, `UNPROCESSABLE_ENTITY`, ...) and a message; the
    /// product or option id when that is what was wrong. Nothing else (OCTO's error schemas allow nothing else).
    public struct ErrorBody: Encodable, Sendable, Hashable, Error {
        public var error: String
        public var errorMessage: String
        public var productId: String?
        public var optionId: String?
        public var uuid: String?
        public var availabilityId: String?
        public var unitId: String?
        /// The HTTP status: 400 for OCTO's own errors, 401/403 for credentials, 404 for an unknown booking, 429.
        public let status: Int
        public init(
            _ error: String, _ message: String, status: Int = 400, productId: String? = nil, optionId: String? = nil, uuid: String? = nil,
            availabilityId: String? = nil, unitId: String? = nil
        ) {
            self.error = error
            errorMessage = message
            self.status = status
            self.productId = productId
            self.optionId = optionId
            self.uuid = uuid
            self.availabilityId = availabilityId
            self.unitId = unitId
        }
        enum CodingKeys: String, CodingKey { case error, errorMessage, productId, optionId, uuid, availabilityId, unitId }

        public static func badRequest(_ message: String) -> ErrorBody { ErrorBody("BAD_REQUEST", message) }
        public static func unprocessable(_ message: String) -> ErrorBody { ErrorBody("UNPROCESSABLE_ENTITY", message) }
        public static func invalidProduct(_ id: String) -> ErrorBody {
            ErrorBody("INVALID_PRODUCT_ID", "The productId was missing or invalid", productId: id)
        }
        public static func invalidOption(_ id: String) -> ErrorBody { ErrorBody("INVALID_OPTION_ID", "The optionId was missing or invalid", optionId: id) }
        public static func invalidBooking(_ uuid: String) -> ErrorBody {
            ErrorBody("INVALID_BOOKING_UUID", "Invalid booking uuid", status: 400, uuid: uuid)
        }
    }
}

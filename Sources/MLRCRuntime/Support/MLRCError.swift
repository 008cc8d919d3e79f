/// Every failure in mlrc is a thrown `MLRCError`; the C API turns it into a status plus message.
public struct MLRCError: Error, CustomStringConvertible, Sendable {
    /// The mlrc_status codes of include/mlrc.h.
    public enum Kind: Int32, Sendable {
        case argument = 1, io = 2, format = 3, version = 4, image = 5, memory = 6, `internal` = 7
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public static func format(_ message: String) -> MLRCError { MLRCError(.format, message) }
    public static func argument(_ message: String) -> MLRCError { MLRCError(.argument, message) }
}

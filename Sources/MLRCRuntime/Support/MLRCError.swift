import CMLRCABI

/// Every failure in mlrc is a thrown `MLRCError`; the C API turns it into a status plus message.
public struct MLRCError: Error, CustomStringConvertible, Sendable {
    /// The mlrc_status codes, as include/mlrc.h defines them.
    public typealias Kind = mlrc_status

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

extension mlrc_status: @unchecked @retroactive Sendable {
    public static let argument = MLRC_ERR_ARGUMENT
    public static let io = MLRC_ERR_IO
    public static let format = MLRC_ERR_FORMAT
    public static let version = MLRC_ERR_VERSION
    public static let image = MLRC_ERR_IMAGE
    public static let memory = MLRC_ERR_MEMORY
    public static let `internal` = MLRC_ERR_INTERNAL
}

import Foundation
import XCertProto

extension Xcert_Common_V1_Timestamp {
    /// The instant of `date`, to the nanosecond below.
    public init(_ date: Date) {
        self.init()
        let seconds = date.timeIntervalSince1970.rounded(.down)
        self.seconds = Int64(seconds)
        self.nanos = Int32(((date.timeIntervalSince1970 - seconds) * 1_000_000_000).rounded(.down))
    }
}

extension Principal.Role {
    /// The role of `xcert.registry.v1.Role`; nil for ROLE_UNSPECIFIED.
    public init?(wire role: Xcert_Registry_V1_Role) {
        switch role {
        case .provinceAdmin: self = .provinceAdmin
        case .cityReviewer: self = .cityReviewer
        case .school: self = .school
        case .organization: self = .organization
        case .service: self = .service
        default: return nil
        }
    }

    /// The same role as `xcert.registry.v1.Role`.
    public var wire: Xcert_Registry_V1_Role {
        switch self {
        case .provinceAdmin: .provinceAdmin
        case .cityReviewer: .cityReviewer
        case .school: .school
        case .organization: .organization
        case .service: .service
        default: .unspecified
        }
    }
}

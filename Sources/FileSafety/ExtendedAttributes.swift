// ExtendedAttributes.swift: a replaced file keeps its extended attributes,
// POSIX ACLs included (system.posix_acl_access is one): postmap rebuilds an
// index in place and postconf -e rewrites main.cf keeping them, and a user
// granted read by an ACL must not lose it because apply renamed a new file
// over the old one.

import CFileAttributes
import Glibc

enum ExtendedAttributes {
    /// Copies every extended attribute of `source` (not following a final
    /// link; the caller passes the resolved target, through its pinned
    /// directory; `named` is its path for messages) to `descriptor`. A
    /// security.* attribute the kernel will not let us set (an SELinux label
    /// the policy assigns itself) is left to the policy; any other failure
    /// is an error, so that a replacement never silently drops an ACL.
    static func copy(from source: String, named: String, to descriptor: Int32, path: String) throws(FileSafetyError) {
        let names: [String]
        do { names = try self.names(of: source) } catch { throw error.naming(named) }
        for name in names {
            let value: [UInt8]
            do { value = try self.value(of: name, at: source) } catch { throw error.naming(named) }
            let result = value.withUnsafeBytes { fsetxattr(descriptor, name, $0.baseAddress, $0.count, 0) }
            guard result != 0 else { continue }
            let code = errno
            if name.hasPrefix("security.") && (code == EPERM || code == ENOTSUP || code == EACCES) { continue }
            throw .systemCallFailed(operation: "keep the extended attribute \(name) of", path: path, errno: .init(rawValue: code))
        }
    }

    /// The attribute names of `path`; none where the file system has none.
    private static func names(of path: String) throws(FileSafetyError) -> [String] {
        let size = llistxattr(path, nil, 0)
        if size < 0 {
            if errno == ENOTSUP || errno == ENOENT { return [] }
            throw .systemCallFailed(operation: "list the extended attributes of", path: path, errno: .init(rawValue: errno))
        }
        if size == 0 { return [] }
        var buffer = [CChar](repeating: 0, count: size)
        let read = llistxattr(path, &buffer, size)
        guard read >= 0 else {
            throw .systemCallFailed(operation: "list the extended attributes of", path: path, errno: .init(rawValue: errno))
        }
        return buffer[..<read].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    private static func value(of name: String, at path: String) throws(FileSafetyError) -> [UInt8] {
        let size = lgetxattr(path, name, nil, 0)
        guard size >= 0 else {
            throw .systemCallFailed(operation: "read the extended attribute \(name) of", path: path, errno: .init(rawValue: errno))
        }
        var buffer = [UInt8](repeating: 0, count: size)
        let read = lgetxattr(path, name, &buffer, size)
        guard read >= 0 else {
            throw .systemCallFailed(operation: "read the extended attribute \(name) of", path: path, errno: .init(rawValue: errno))
        }
        return Array(buffer[..<read])
    }
}

// SymlinkResolution.swift: follows a chain of symbolic links to the file that
// finally holds the data. Replacing a file by rename must target that file,
// otherwise the rename would replace the link itself with a regular file and
// silently detach it from wherever the administrator pointed it.

import SystemPackage

/// The most links followed before giving up; the same as Linux's own limit
/// for path resolution, so we fail exactly where the kernel would.
let symlinkFollowLimit = 40

/// Returns the final target of the chain of symbolic links starting at
/// `path`. Relative link targets are resolved against the directory holding
/// the link. A path that does not exist at all is returned unchanged (it may
/// be a file about to be created); a link whose target is missing is an
/// error naming the link. Only the last component is followed: directories
/// along the way are left to the kernel, because rename(2) within one
/// directory works the same through them.
public func resolveSymlinks(_ path: String) throws -> String {
    var current = FilePath(path)
    for hop in 0...symlinkFollowLimit {
        let status: Stat
        do {
            status = try Stat(current, followTargetSymlink: false)
        } catch .noSuchFileOrDirectory where hop > 0 {
            throw FileSafetyError.danglingSymlink(link: path, missingTarget: current.string)
        } catch .noSuchFileOrDirectory {
            return path
        } catch {
            throw FileSafetyError.systemCallFailed(
                operation: "stat", path: current.string, errno: error)
        }
        guard status.type == .symbolicLink else {
            return hop == 0 ? path : current.string
        }
        guard hop < symlinkFollowLimit else { break }
        let target = FilePath(try SystemCalls.readlink(current.string))
        // pushing() replaces the whole path when the target is absolute.
        current = current.removingLastComponent().pushing(target)
    }
    throw FileSafetyError.tooManySymlinks(path: path, limit: symlinkFollowLimit)
}

// ltoc: the client shim. Foundation-free so that it starts in milliseconds: it runs
// once per link as GCC's lto-wrapper and once per WPA/LTRANS job as the driver.
// Its mode comes from argv[0] and the environment:
//   lto-wrapper (symlink)          wrapper mode: open a link session, run GCC's real lto-wrapper
//   LTOD_DRIVER/LTOD_SESSION set   driver mode: hand one WPA/LTRANS command to the daemon
//   ltoc CC ARGS...                launcher mode: add `-B <libexec>` to LTO links
//   ltoc stats|explain|...         queries and management
#if canImport(Glibc)
import Glibc
#endif
import LTOConfig
import LTOSystem

let arguments = CommandLine.arguments
if baseName(arguments[0]) == "lto-wrapper" {
    // Already inside a session: this copy of ltoc is being run as GCC's own lto-wrapper
    // (a misinstall); run the real one rather than start a session within a session.
    if lookup(ShimEnvironment.session) != nil { Wrapper.runUnchanged(arguments) }
    Wrapper.run(arguments)
} else if let driver = lookup(ShimEnvironment.driver), let session = lookup(ShimEnvironment.session) {
    Driver.run(arguments, driver: driver, session: session)
} else {
    CLI.run(arguments)
}

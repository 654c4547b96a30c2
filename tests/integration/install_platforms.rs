//! scripts/install.sh as it runs on Windows runners (Git Bash: `uname -s` is `MINGW64_NT-*`, Windows
//! paths with backslashes in the runner's variables, `cygpath`, `recover.exe`) and on macOS
//! runners (`arm64` and `x86_64`, `shasum` instead of `sha256sum`): run here with a fake `uname`
//! (and `cygpath`, `shasum`) on a `PATH` of its own and the runner's variables set as those
//! runners set them, against release assets served from 127.0.0.1.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use tempfile::TempDir;

const TAG: &str = "v9.9.9";
const REPOSITORY: &str = "recover-dev/recover";

/// Serves `assets` (URL path → bytes) on 127.0.0.1 until the test ends; returns the base URL and
/// the paths requested.
fn serve(assets: BTreeMap<String, Vec<u8>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requested = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requested);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            seen.lock().unwrap().push(path.clone());
            let mut stream = &stream;
            let _ = match assets.get(&path) {
                Some(body) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(body)),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    (url, requested)
}

/// A release archive as the release workflow makes it: `exe` alone, at the top.
fn archive(dir: &Path, exe: &str, contents: &str) -> Vec<u8> {
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join(exe), contents).unwrap();
    let tarball = dir.join("asset.tar.gz");
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&staging)
        .arg(exe)
        .status()
        .expect("run tar");
    assert!(status.success());
    std::fs::read(tarball).unwrap()
}

fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// One runner's platform as install.sh sees it.
struct Platform {
    /// What the fake `uname -s` and `uname -m` print.
    uname_s: &'static str,
    uname_m: &'static str,
    /// `RUNNER_OS` and `RUNNER_ARCH`, when the runner sets them.
    runner: Option<(&'static str, &'static str)>,
    /// The release target whose asset must be fetched, and the binary's name in it.
    target: &'static str,
    exe: &'static str,
    /// A checksum program that must be used (`shasum` on macOS).
    checksum_tool: &'static str,
    /// Git Bash: the runner's paths are Windows paths, turned into POSIX ones by `cygpath`.
    windows_paths: bool,
}

/// What one install did.
struct Installed {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    /// `path=` from `GITHUB_OUTPUT`, when there is one.
    path: Option<PathBuf>,
    requested: Vec<String>,
    checksum_tool_used: bool,
    root: TempDir,
}

/// A `PATH` of its own in `bin`: the real tools install.sh needs, a fake `uname` for
/// `platform`, its checksum tool (which notes in `used` that it ran) and, for Git Bash,
/// `cygpath` mapping `C:\` to `base/c`.
fn fake_tools(platform: &Platform, bin: &Path, used: &Path, base: &Path) {
    std::fs::create_dir(bin).unwrap();
    for tool in [
        "cat", "chmod", "cp", "curl", "dirname", "find", "grep", "gzip", "mkdir", "mktemp", "mv",
        "rm", "sed", "sleep", "sort", "tar", "tr",
    ] {
        let real = which::which(tool).unwrap_or_else(|e| panic!("{tool}: {e}"));
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    write_script(
        &bin.join("uname"),
        &format!(
            "#!/bin/sh\ncase \"$1\" in -s) echo '{}' ;; -m) echo '{}' ;; -n) echo runner-host ;; *) echo '{}' ;; esac\n",
            platform.uname_s, platform.uname_m, platform.uname_s
        ),
    );
    let sha256sum = which::which("sha256sum").unwrap();
    if platform.checksum_tool == "shasum" {
        // macOS: shasum only; it must be asked for SHA-256.
        write_script(
            &bin.join("shasum"),
            &format!(
                "#!/bin/sh\n[ \"$1\" = -a ] && [ \"$2\" = 256 ] || {{ echo 'shasum: not asked for -a 256' >&2; exit 1; }}\nshift 2\n: > '{}'\nexec '{}' \"$@\"\n",
                used.display(),
                sha256sum.display()
            ),
        );
    } else {
        write_script(
            &bin.join("sha256sum"),
            &format!(
                "#!/bin/sh\n: > '{}'\nexec '{}' \"$@\"\n",
                used.display(),
                sha256sum.display()
            ),
        );
    }
    if platform.windows_paths {
        // Git Bash's cygpath -u: C:\x\y becomes /c/x/y (here under the test's root).
        write_script(
            &bin.join("cygpath"),
            &format!(
                "#!/bin/bash\n[ \"$1\" = -u ] || exit 1\np=\"$2\"\nrest=\"${{p:2}}\"\nprintf '%s/%s%s\\n' '{}' \"$(printf '%s' \"${{p:0:1}}\" | tr '[:upper:]' '[:lower:]')\" \"${{rest//\\\\//}}\"\n",
                base.display()
            ),
        );
    }
}

/// Runs install.sh for `platform` with only the tools a runner has on `PATH`; `pinned` overrides
/// the checksum committed for the asset.
fn install(platform: &Platform, pinned: Option<&str>) -> Installed {
    let root = tempfile::tempdir().unwrap();
    let base = root.path();
    let asset_name = format!("recover-{TAG}-{}.tar.gz", platform.target);
    let asset = archive(
        base,
        platform.exe,
        &format!("binary for {}", platform.target),
    );
    let sum = hex(&Sha256::digest(&asset));
    let (url, requested) = serve(BTreeMap::from([(
        format!("/{REPOSITORY}/releases/download/{TAG}/{asset_name}"),
        asset,
    )]));

    // The action's checkout and the tool cache, at the POSIX paths cygpath gives on Windows.
    let (action_var, action_dir, cache_var, cache_dir) = if platform.windows_paths {
        (
            format!(r"C:\a\_actions\{}\{TAG}", REPOSITORY.replace('/', r"\")),
            base.join(format!("c/a/_actions/{REPOSITORY}/{TAG}")),
            r"C:\hostedtoolcache\windows".to_owned(),
            base.join("c/hostedtoolcache/windows"),
        )
    } else {
        let action = base.join("action");
        let cache = base.join("hostedtoolcache");
        (
            action.display().to_string(),
            action,
            cache.display().to_string(),
            cache,
        )
    };
    std::fs::create_dir_all(action_dir.join("scripts")).unwrap();
    std::fs::create_dir_all(action_dir.join("dist/checksums")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh"),
        action_dir.join("scripts/install.sh"),
    )
    .unwrap();
    std::fs::write(
        action_dir.join(format!("dist/checksums/{TAG}.sha256")),
        format!("{}  {asset_name}\n", pinned.unwrap_or(&sum)),
    )
    .unwrap();

    let bin = base.join("bin");
    let used = base.join("checksum-tool-used");
    fake_tools(platform, &bin, &used, base);

    let output = base.join("github_output");
    let mut command = Command::new(which::which("bash").unwrap());
    command
        .arg(action_dir.join("scripts/install.sh"))
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", base)
        .env("GITHUB_ACTION_PATH", &action_var)
        .env("RUNNER_TOOL_CACHE", &cache_var)
        .env("RUNNER_TEMP", base.join("temp"))
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_SERVER_URL", &url)
        .env("RECOVER_ACTION_REF", TAG)
        .env("RECOVER_ACTION_REPOSITORY", REPOSITORY)
        .env("INPUT_INSTALL", "download");
    if let Some((os, arch)) = platform.runner {
        command.env("RUNNER_OS", os).env("RUNNER_ARCH", arch);
    }
    let result = command.output().expect("run install.sh");
    let path = std::fs::read_to_string(&output).ok().and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("path="))
            .map(PathBuf::from)
    });
    assert!(cache_dir.starts_with(base));
    Installed {
        status: result.status.code(),
        stdout: String::from_utf8_lossy(&result.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&result.stderr).into_owned(),
        path,
        requested: requested.lock().unwrap().clone(),
        checksum_tool_used: used.exists(),
        root,
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Installs for `platform` and checks the binary landed in the tool cache from the right asset.
#[track_caller]
fn installs(platform: &Platform, cache_suffix: &str) {
    let done = install(platform, None);
    let describe = format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- requested {:?}",
        done.status, done.stdout, done.stderr, done.requested
    );
    assert_eq!(done.status, Some(0), "{describe}");
    assert_eq!(
        done.requested,
        vec![format!(
            "/{REPOSITORY}/releases/download/{TAG}/recover-{TAG}-{}.tar.gz",
            platform.target
        )],
        "{describe}"
    );
    let path = done.path.clone().expect("path= in GITHUB_OUTPUT");
    assert!(
        path.starts_with(done.root.path()) && path.ends_with(cache_suffix),
        "{} {describe}",
        path.display()
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("binary for {}", platform.target)
    );
    assert!(
        done.checksum_tool_used,
        "{} was not used {describe}",
        platform.checksum_tool
    );
}

const WINDOWS: Platform = Platform {
    uname_s: "MINGW64_NT-10.0-20348",
    uname_m: "x86_64",
    runner: Some(("Windows", "X64")),
    target: "x86_64-pc-windows-msvc",
    exe: "recover.exe",
    checksum_tool: "sha256sum",
    windows_paths: true,
};

const MACOS_ARM64: Platform = Platform {
    uname_s: "Darwin",
    uname_m: "arm64",
    runner: Some(("macOS", "ARM64")),
    target: "aarch64-apple-darwin",
    exe: "recover",
    checksum_tool: "shasum",
    windows_paths: false,
};

#[test]
fn windows_git_bash_installs_the_msvc_exe_into_the_backslashed_tool_cache() {
    installs(
        &WINDOWS,
        "c/hostedtoolcache/windows/recover/9.9.9/x64/recover.exe",
    );
}

#[test]
fn windows_is_recognised_from_uname_without_the_runner_s_variables() {
    installs(
        &Platform {
            runner: None,
            ..WINDOWS
        },
        "c/hostedtoolcache/windows/recover/9.9.9/x64/recover.exe",
    );
}

#[test]
fn macos_arm64_installs_the_aarch64_darwin_binary_checked_with_shasum() {
    installs(&MACOS_ARM64, "recover/9.9.9/arm64/recover");
}

#[test]
fn macos_x86_64_is_recognised_from_uname_without_the_runner_s_variables() {
    installs(
        &Platform {
            uname_m: "x86_64",
            runner: None,
            target: "x86_64-apple-darwin",
            ..MACOS_ARM64
        },
        "recover/9.9.9/x64/recover",
    );
}

#[test]
fn macos_refuses_an_asset_whose_shasum_does_not_match() {
    let done = install(&MACOS_ARM64, Some(&"0".repeat(64)));
    assert_eq!(done.status, Some(1), "{}", done.stdout);
    assert!(done.stdout.contains("checksum mismatch"), "{}", done.stdout);
    assert!(done.checksum_tool_used);
    assert_eq!(done.path, None);
}

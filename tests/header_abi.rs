//! The committed C header, `include/svcshell.h`, checked against the Rust code it describes. cbindgen (pinned in
//! Cargo.toml) generates the declarations of the exports and `#[repr(C)]` types of `src/ffi/` twice, and one C
//! file is compiled with the committed header and both:
//!
//! - the functions as generated, in the header's own type names, after the header's prototypes: C refuses a
//!   second declaration of a function whose type differs ("conflicting types"), so any parameter or return type
//!   the header does not follow is a compile error;
//! - the structs and constants under a `gen_` prefix, with `_Static_assert`s that each struct has the header's
//!   size and each field the header's offset and size, and each result code the header's value.
//!
//! The file is compiled with `-Werror`, so a redefined macro fails too. `CC` overrides the compiler.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Rust type names and the header's names for them.
const TYPES: &[(&str, &str)] = &[
    ("CStats", "svcshell_stats"),
    ("CBatchCounts", "svcshell_batch_counts"),
    ("FilterHandle", "svcshell_filter"),
];

/// The declarations cbindgen generates from the crate: `functions` gives the exported functions only (in the
/// header's type names), otherwise the types and constants only, each renamed `gen_` + name.
fn generate(functions: bool) -> String {
    let mut config = cbindgen::Config {
        language: cbindgen::Language::C,
        style: cbindgen::Style::Type,
        no_includes: true,
        usize_is_size_t: true,
        documentation: false,
        ..Default::default()
    };
    if functions {
        config.export.item_types = vec![cbindgen::ItemType::Functions];
    } else {
        config.export.prefix = Some("gen_".into());
        config.export.item_types = vec![
            cbindgen::ItemType::Constants,
            cbindgen::ItemType::Structs,
            cbindgen::ItemType::Typedefs,
            cbindgen::ItemType::OpaqueItems,
        ];
    }
    for (rust, c) in TYPES {
        config.export.rename.insert(rust.to_string(), c.to_string());
    }
    // The Fluent Bit plugin's structs are not the C API's (they have layout checks of their own).
    config.export.exclude = vec!["FlbFilterPlugin".into(), "MkList".into()];
    config.parse.parse_deps = false;
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root())
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut out);
    String::from_utf8(out).unwrap()
}

/// The fields of each generated `typedef struct { ... } gen_<name>;` of the header's types.
fn structs(generated: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut fields: Option<Vec<String>> = None;
    for line in generated.lines() {
        let line = line.trim();
        if line == "typedef struct {" {
            fields = Some(Vec::new());
        } else if let Some(name) = line
            .strip_prefix("} gen_")
            .and_then(|l| l.strip_suffix(';'))
        {
            out.push((name.to_string(), fields.take().expect("struct start")));
        } else if let Some(f) = fields.as_mut() {
            let decl = line.strip_suffix(';').expect("one field a line");
            let name = decl.rsplit([' ', '*']).next().unwrap();
            f.push(name.to_string());
        }
    }
    out
}

/// The C file: the committed header, then the generated declarations, then the layout and value checks.
fn check_source() -> String {
    let types = generate(false);
    let functions = generate(true);
    let mut c =
        String::from("#include <stddef.h>\n#include <stdint.h>\n#include \"svcshell.h\"\n\n");
    c += "/* Types and constants as generated, renamed gen_*. */\n";
    c += &types;
    // Every function the header declares was generated (an export cbindgen cannot see, e.g. one whose signature
    // a macro writes, would otherwise go unchecked).
    let header = std::fs::read_to_string(root().join("include/svcshell.h")).unwrap();
    let declared: Vec<&str> = header
        .lines()
        .filter(|l| !l.starts_with([' ', '#', '/', '}']) && l.contains('('))
        .filter_map(|l| l.split('(').next()?.rsplit([' ', '*']).next())
        .filter(|n| n.starts_with("svcshell_"))
        .collect();
    assert_eq!(declared.len(), 13, "{declared:?}");
    for name in &declared {
        assert!(
            functions.contains(&format!(" *{name}(")) || functions.contains(&format!(" {name}(")),
            "{name} not generated:\n{functions}"
        );
    }
    c += "\n/* Functions as generated: a prototype the header declares differently is an error. */\n";
    c += &functions;
    c += "\n/* Each struct as the header declares it: same size, same fields at the same offsets. */\n";
    let structs = structs(&types);
    let mut names: Vec<&str> = structs.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(names, ["svcshell_batch_counts", "svcshell_stats"]);
    for (name, fields) in &structs {
        c += &format!("_Static_assert(sizeof({name}) == sizeof(gen_{name}), \"sizeof {name}\");\n");
        for f in fields {
            c += &format!(
                "_Static_assert(offsetof({name}, {f}) == offsetof(gen_{name}, {f}), \"{name}.{f} offset\");\n\
                 _Static_assert(sizeof(((const {name} *)0)->{f}) == sizeof(((const gen_{name} *)0)->{f}), \
                 \"{name}.{f} size\");\n"
            );
        }
    }
    c += "\n/* Each result code and version number as the header defines it. */\n";
    let mut constants = 0;
    for line in types.lines() {
        let Some(rest) = line.strip_prefix("#define gen_") else {
            continue;
        };
        let name = rest.split(' ').next().unwrap();
        let header_name = if name.starts_with("SVCSHELL_") {
            name.to_string()
        } else if name.starts_with("API_VERSION_") {
            format!("SVCSHELL_{name}")
        } else {
            continue;
        };
        c += &format!("_Static_assert({header_name} == gen_{name}, \"{header_name}\");\n");
        constants += 1;
    }
    assert_eq!(constants, 11, "8 codes and 3 version numbers:\n{types}");
    c
}

fn compile(source: &str, name: &str) -> std::process::Output {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("header_abi");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, source).unwrap();
    Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-fsyntax-only",
            "-I",
        ])
        .arg(root().join("include"))
        .arg(&file)
        .output()
        .expect("run the C compiler")
}

#[test]
fn header_agrees_with_the_rust_declarations() {
    let source = check_source();
    let out = compile(&source, "check.c");
    assert!(
        out.status.success(),
        "include/svcshell.h disagrees with src/ffi/:\n{}\n--- the checked file:\n{source}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The check itself catches what it is for: a prototype, a field and a code that differ from the header's.
#[test]
fn the_check_catches_a_changed_declaration() {
    let source = check_source();
    assert!(compile(&source, "check.c").status.success());
    for (what, from, to) in [
        (
            "a parameter type",
            "svcshell_filter_last_error(const svcshell_filter *filter, char *buf, size_t buflen)",
            "svcshell_filter_last_error(const svcshell_filter *filter, char *buf, uint32_t buflen)",
        ),
        (
            "a field order",
            "uint64_t alerts;\n  uint64_t dropped;",
            "uint64_t dropped;\n  uint64_t alerts;",
        ),
        (
            "a code",
            "#define gen_SVCSHELL_PANIC -2",
            "#define gen_SVCSHELL_PANIC -4",
        ),
    ] {
        assert!(source.contains(from), "{what}: {from} not in\n{source}");
        let out = compile(&source.replacen(from, to, 1), "changed.c");
        assert!(
            !out.status.success(),
            "{what} changed, yet the check compiles"
        );
    }
}

//! A host that runs `svcshell.wasm` the way Fluent Bit's `filter_wasm` does (`flb_wasm.c`, 2.2 to 5.1), under
//! the wasmtime runtime: the tests in `tests/` compare what the module answers with the svcshell library.
//!
//! What is reproduced of Fluent Bit's side: the accessible directories are preopened under their own names; the
//! module's `_initialize` runs at instantiation (WAMR runs a WASI reactor's, and a trap there fails the
//! instantiation); each record and its tag are copied into the module's memory through its exported `malloc`,
//! each followed by a NUL, the record's length being its `strlen`; the answer is read as a NUL-terminated string
//! at the returned address, an empty one dropping the record; both copies are freed after the call.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasmtime::{
    bail, format_err, Engine, Error, Instance as WasmInstance, Linker, Memory, Module, Result,
    Store, TypedFunc,
};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// The compiled module, instantiated once per configuration.
pub struct Host {
    engine: Engine,
    module: Module,
    linker: Linker<WasiP1Ctx>,
}

/// What the host does with the record after the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// This record (JSON text) goes on.
    Record(Vec<u8>),
    /// The record is dropped (the module answered an empty string).
    Dropped,
}

type FilterFn = TypedFunc<(u32, u32, u32, u32, u32, u32), u32>;

/// One instance of the module, as one `[FILTER] Name wasm` section holds it.
pub struct Instance {
    store: Store<WasiP1Ctx>,
    memory: Memory,
    filter: FilterFn,
    malloc: TypedFunc<u32, u32>,
    free: TypedFunc<u32, ()>,
    stderr: MemoryOutputPipe,
}

/// An instantiation the module refused: the error and what it wrote on standard error.
#[derive(Debug)]
pub struct Refused {
    pub error: String,
    pub stderr: String,
}

/// The `svcshell.wasm` to run: `SVCSHELL_WASM` when set, else built here (`--profile module`, `wasm32-wasip1`) into
/// `wasm/target/module` (its own target directory, so building it never waits on the one running the tests).
pub fn module_path() -> PathBuf {
    if let Some(p) = std::env::var_os("SVCSHELL_WASM") {
        return PathBuf::from(p);
    }
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = ws.join("target/module");
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", &target)
        .args([
            "build",
            "--profile",
            "module",
            "--quiet",
            "-p",
            "svcshell-wasm",
            "--target",
            "wasm32-wasip1",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building svcshell.wasm failed (is the target installed? `rustup target add wasm32-wasip1`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("wasm32-wasip1/module/svcshell_wasm.wasm")
}

impl Host {
    pub fn new(wasm: &Path) -> Result<Host> {
        let engine = Engine::default();
        let module = Module::from_file(&engine, wasm)
            .map_err(|e| format_err!("loading {}: {e:#}", wasm.display()))?;
        let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
        p1::add_to_linker_sync(&mut linker, |t| t)?;
        Ok(Host {
            engine,
            module,
            linker,
        })
    }

    /// The names the module exports.
    pub fn exports(&self) -> Vec<String> {
        self.module
            .exports()
            .map(|e| e.name().to_string())
            .collect()
    }

    /// Instantiates the module with these accessible directories (Fluent Bit's `Accessible_Paths`).
    pub fn instantiate(&self, dirs: &[&Path]) -> std::result::Result<Instance, Refused> {
        let stderr = MemoryOutputPipe::new(1 << 20);
        let refused = |e: Error, stderr: &MemoryOutputPipe| Refused {
            error: format!("{e:#}"),
            stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
        };
        let mut b = WasiCtxBuilder::new();
        b.stderr(stderr.clone());
        for d in dirs {
            let name = d.to_str().expect("UTF-8 path");
            b.preopened_dir(d, name, FsPerms::ReadOnly)
                .map_err(|e| refused(e, &stderr))?;
        }
        let mut store = Store::new(&self.engine, b.build_p1());
        let made = (|| -> Result<(WasmInstance, Memory)> {
            let inst = self.linker.instantiate(&mut store, &self.module)?;
            if let Ok(init) = inst.get_typed_func::<(), ()>(&mut store, "_initialize") {
                init.call(&mut store, ())?;
            }
            let memory = inst
                .get_memory(&mut store, "memory")
                .ok_or_else(|| format_err!("no memory export"))?;
            Ok((inst, memory))
        })();
        let (inst, memory) = made.map_err(|e| refused(e, &stderr))?;
        let get = |store: &mut Store<WasiP1Ctx>| -> Result<_> {
            Ok((
                inst.get_typed_func(&mut *store, "svcshell_filter")?,
                inst.get_typed_func(&mut *store, "malloc")?,
                inst.get_typed_func(&mut *store, "free")?,
            ))
        };
        let (filter, malloc, free) = get(&mut store).map_err(|e| refused(e, &stderr))?;
        Ok(Instance {
            store,
            memory,
            filter,
            malloc,
            free,
            stderr,
        })
    }
}

impl Instance {
    /// What the module wrote on standard error so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }

    /// A copy of `bytes` and a NUL in the module's memory (Fluent Bit's `wasm_runtime_module_dup_data`).
    fn dup(&mut self, bytes: &[u8]) -> Result<u32> {
        let at = self.malloc.call(&mut self.store, bytes.len() as u32 + 1)?;
        if at == 0 {
            bail!("malloc({}) failed", bytes.len() + 1);
        }
        self.memory.write(&mut self.store, at as usize, bytes)?;
        self.memory
            .write(&mut self.store, at as usize + bytes.len(), &[0])?;
        Ok(at)
    }

    /// Runs one record (its JSON text; cut at a NUL as `strlen` would) at event time `sec`.
    pub fn call(&mut self, tag: &str, sec: u32, record: &[u8]) -> Result<Answer> {
        let record = match record.iter().position(|&b| b == 0) {
            Some(n) => &record[..n],
            None => record,
        };
        let t = self.dup(tag.as_bytes())?;
        let r = self.dup(record)?;
        let called = self.filter.call(
            &mut self.store,
            (t, tag.len() as u32, sec, 0, r, record.len() as u32),
        );
        let answer = called.and_then(|at| {
            let mem = self.memory.data(&self.store);
            let s = mem
                .get(at as usize..)
                .ok_or_else(|| format_err!("answer address {at} outside memory"))?;
            let n = s
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| format_err!("answer at {at} not NUL-terminated"))?;
            Ok(if n == 0 {
                Answer::Dropped
            } else {
                Answer::Record(s[..n].to_vec())
            })
        });
        self.free.call(&mut self.store, t)?;
        self.free.call(&mut self.store, r)?;
        answer
    }

    /// Bytes of linear memory the instance holds now.
    pub fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }
}

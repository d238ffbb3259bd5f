//! The `healthsim` binary: see `healthsim --help`.

/// mimalloc instead of the system allocator (see the dependency's note in Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    healthsim_cli::app::main()
}

//! The `healthsim` binary: see `healthsim --help`.

fn main() -> std::process::ExitCode {
    healthsim_cli::app::main()
}

//! A query worker process for the crate's containment tests: `run_contained` starts it, it
//! serves one request (see `healthsim_query::worker_main`). The `healthsim` binary serves the
//! same role in the product.

fn main() -> std::process::ExitCode {
    healthsim_query::worker_main()
}

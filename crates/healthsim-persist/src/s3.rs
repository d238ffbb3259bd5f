//! How a lake reaches data files kept in S3 object storage (`data_path=s3://bucket/prefix/`):
//! the credentials and the endpoint, read from the environment, handed to DuckDB's `httpfs`
//! extension as a temporary secret scoped to the lake's data path.
//!
//! Why from the environment: the lake's string is shown in messages and results (its libpq
//! password hidden), and a team's machines already carry S3 credentials the way AWS's own tools
//! read them. So this module reads the same variables those tools do — `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`) and, for
//! an S3-compatible server other than AWS, `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`) — and
//! nothing else: no profile files, no instance metadata (DuckDB's credential chain needs an
//! extension we do not ship). A custom endpoint is addressed path-style (`host/bucket/key`),
//! which S3-compatible servers accept; AWS itself is addressed as DuckDB does by default.
//!
//! The secret is scoped to the data path, so the credentials go with requests under it only. Its
//! values never appear in a message: [`S3Access::secrets`] lists them for redaction, and DuckDB
//! shows a secret's values redacted.
//!
//! Neighbours: `target.rs` accepts the `s3://` data path; `lake.rs` loads `httpfs` and runs
//! [`S3Access::secret_statement`] on the writer and in the query sandbox's setup.

use std::path::Path;

use crate::lake::literal;

/// The access key id's variable.
pub const KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// The secret access key's variable.
pub const SECRET: &str = "AWS_SECRET_ACCESS_KEY";
/// The session token's variable (temporary credentials).
pub const SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// The region's variables, in the order they are read.
pub const REGION: [&str; 2] = ["AWS_REGION", "AWS_DEFAULT_REGION"];
/// The endpoint's variables, in the order they are read (the S3-specific one first).
pub const ENDPOINT: [&str; 2] = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"];

/// The region when no variable names one (AWS's default).
const DEFAULT_REGION: &str = "us-east-1";

/// The secret's name in the DuckDB instance.
const SECRET_NAME: &str = "healthsim_lake_s3";

/// What reaches a lake's S3 data: credentials, region and endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Access {
    key_id: String,
    secret: String,
    session_token: Option<String>,
    region: String,
    /// `host[:port]` of an S3-compatible server, and whether it speaks TLS.
    endpoint: Option<(String, bool)>,
}

/// Never the credentials.
impl std::fmt::Debug for S3Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Access(region {}", self.region)?;
        if let Some((host, tls)) = &self.endpoint {
            write!(f, ", endpoint {host}, tls {tls}")?;
        }
        write!(f, ")")
    }
}

impl S3Access {
    /// Reads the variables from this process's environment (an empty value counts as unset).
    ///
    /// # Errors
    ///
    /// The sentence that says what is missing or wrong (see [`S3Access::from_vars`]).
    pub fn from_env() -> Result<S3Access, String> {
        S3Access::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `var` (an empty value counts as unset).
    ///
    /// # Errors
    ///
    /// A sentence naming the variables: the access key id or secret key unset, or an endpoint
    /// that is not an `http://` or `https://` URL with a host.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<S3Access, String> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let first = |names: &[&str]| names.iter().find_map(|n| var(n));
        let (Some(key_id), Some(secret)) = (var(KEY_ID), var(SECRET)) else {
            let missing: Vec<&str> = [KEY_ID, SECRET]
                .into_iter()
                .filter(|n| var(n).is_none())
                .collect();
            return Err(format!(
                "{} not set: the credentials of a lake's S3 data are read from the environment \
                 ({KEY_ID}, {SECRET}, optionally {SESSION_TOKEN}, {}, and {} for an \
                 S3-compatible server)",
                missing.join(" and "),
                REGION[0],
                ENDPOINT[0]
            ));
        };
        let endpoint = match first(&ENDPOINT) {
            None => None,
            Some(url) => Some(endpoint(&url).ok_or_else(|| {
                format!(
                    "the S3 endpoint {url:?} ({} or {}) is not an http:// or https:// URL with \
                     a host",
                    ENDPOINT[0], ENDPOINT[1]
                )
            })?),
        };
        Ok(S3Access {
            key_id,
            secret,
            session_token: var(SESSION_TOKEN),
            region: first(&REGION).unwrap_or_else(|| DEFAULT_REGION.to_string()),
            endpoint,
        })
    }

    /// The `CREATE TEMPORARY SECRET` that lets DuckDB read and write under `data_path`.
    pub fn secret_statement(&self, data_path: &Path) -> String {
        let mut options = vec![
            "TYPE s3".to_string(),
            format!("KEY_ID {}", literal(&self.key_id)),
            format!("SECRET {}", literal(&self.secret)),
            format!("REGION {}", literal(&self.region)),
            format!("SCOPE {}", literal(&data_path.display().to_string())),
        ];
        if let Some(token) = &self.session_token {
            options.push(format!("SESSION_TOKEN {}", literal(token)));
        }
        if let Some((host, tls)) = &self.endpoint {
            options.push(format!("ENDPOINT {}", literal(host)));
            options.push(format!("USE_SSL {tls}"));
            options.push("URL_STYLE 'path'".to_string());
        }
        format!(
            "CREATE OR REPLACE TEMPORARY SECRET {SECRET_NAME} ({})",
            options.join(", ")
        )
    }

    /// The values never to show in a message: the secret key and the session token.
    pub fn secrets(&self) -> Vec<String> {
        std::iter::once(self.secret.clone())
            .chain(self.session_token.clone())
            .collect()
    }
}

/// `host[:port]` and whether TLS is used, of an `http://` or `https://` URL (a trailing `/` or
/// path is dropped: S3 addresses start at the host).
fn endpoint(url: &str) -> Option<(String, bool)> {
    let (rest, tls) = if let Some(rest) = url.strip_prefix("https://") {
        (rest, true)
    } else {
        (url.strip_prefix("http://")?, false)
    };
    let host = rest.split('/').next().unwrap_or_default();
    (!host.is_empty()).then(|| (host.to_string(), tls))
}

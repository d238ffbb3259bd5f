//! Trimming a summary until it fits its token budget.

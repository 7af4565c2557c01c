//! The `s3sql` binary: SQL from `-c`, `-f`, stdin or the interactive shell
//! (on a terminal), run in order in one session, results printed in the
//! chosen format; scripts (`-f`, stdin, `.read`) hold dot commands too. `main` maps the outcome onto the exit code (0 success,
//! or a reader that closed the pipe early, as `s3sql -c ... | head -1`
//! does; 1 a SQL or I/O error, 2 a usage error, which clap reports
//! itself); everything else is `main_inner`.

mod exec;
mod interrupt;
mod print_format;
mod progress;
mod repl;
mod shell;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use s3sql_planner::Session;

use crate::exec::Output;
use crate::print_format::PrintFormat;
use crate::shell::{Flow, Shell};

/// SQL over CSV, TSV, JSON and Parquet files on S3-compatible storage, in
/// DuckDB's dialect.
#[derive(Debug, Parser)]
#[command(name = "s3sql", version, about)]
struct Args {
    /// SQL to run; repeat to run several, in order, in one session.
    /// (It may start with `-`: `-c "-- daily report ..."` is SQL.)
    #[arg(
        short = 'c',
        long = "command",
        value_name = "SQL",
        allow_hyphen_values = true
    )]
    commands: Vec<String>,

    /// A file of SQL statements to run; repeatable, run after any -c.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,

    /// How results are printed.
    #[arg(long, value_enum, default_value_t = PrintFormat::Table)]
    format: PrintFormat,

    /// Write results to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(script) = output_is_a_script(&args) {
        use clap::CommandFactory;
        Args::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "-o {} is also given to -f: writing results there would overwrite the SQL",
                    script.display()
                ),
            )
            .exit();
    }
    match main_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        // `s3sql -c ... | head -1`: the reader has what it wants.
        Err(error) if exec::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", exec::describe(error.as_ref()));
            if error.is::<exec::Interrupted>() {
                // 128 + SIGINT, as a shell reports a process Ctrl-C stopped.
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The `-f` script that `-o` names too (the same file, by any path).
fn output_is_a_script(args: &Args) -> Option<&PathBuf> {
    let output = std::fs::canonicalize(args.output.as_ref()?).ok()?;
    args.files
        .iter()
        .find(|file| std::fs::canonicalize(file).is_ok_and(|file| file == output))
}

fn main_inner(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    interrupt::listen()?;
    let session = Session::default();
    let mut output = Output::open(args.output.as_deref(), args.format)?;
    let mut shell = Shell::new(&session, &mut output);
    if args.commands.is_empty() && args.files.is_empty() {
        if std::io::stdin().is_terminal() {
            return repl::run(&mut shell).await;
        }
        let mut script = String::new();
        std::io::stdin()
            .read_to_string(&mut script)
            .context("reading SQL from standard input")?;
        shell.run_script(&script).await?;
        return Ok(());
    }
    for command in &args.commands {
        // `-c ".mode csv"` is a dot command, as in DuckDB's shell; any
        // other is SQL, run whole.
        if command.trim_start().starts_with('.') {
            if shell.run_script(command).await? == Flow::Quit {
                return Ok(());
            }
        } else {
            shell.run_sql(command, 1).await?;
        }
    }
    for file in &args.files {
        let script = std::fs::read_to_string(file)
            .with_context(|| format!("reading SQL from {}", file.display()))?;
        if shell.run_script(&script).await? == Flow::Quit {
            break;
        }
    }
    Ok(())
}

//! `graph-sim` binary: start the simulator and print its coordinates for scripts.

use clap::Parser;
use graph_sim::{SimConfig, Simulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

#[derive(Parser, Debug)]
#[command(
    name = "graph-sim",
    about = "Microsoft identity platform + Graph v1.0 simulator"
)]
struct Args {
    #[arg(long, env = "SIM_PORT", default_value_t = 7071)]
    port: u16,
    #[arg(long, env = "SIM_CLIENT_ID", default_value = DEFAULT_CLIENT_ID)]
    client_id: String,
    #[arg(long, env = "SIM_CLIENT_SECRET", default_value = DEFAULT_CLIENT_SECRET)]
    client_secret: String,
    /// Allowed redirect URI (repeatable); none allows any http://127.0.0.1 or localhost URI.
    #[arg(
        long = "redirect-uri",
        env = "SIM_REDIRECT_URIS",
        value_delimiter = ','
    )]
    redirect_uris: Vec<String>,
    /// Base URL to publish instead of http://127.0.0.1:{port}.
    #[arg(long, env = "SIM_PUBLIC_BASE_URL")]
    public_base_url: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let sim = Simulator::start(SimConfig {
        port: args.port,
        client_id: args.client_id,
        client_secret: args.client_secret,
        redirect_uris: args.redirect_uris,
        public_base_url: args.public_base_url,
    })
    .await?;
    println!("SIM_URL={}", sim.base_url());
    println!("SIM_CLIENT_ID={}", sim.client_id());
    println!("SIM_CLIENT_SECRET={}", sim.client_secret());
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}

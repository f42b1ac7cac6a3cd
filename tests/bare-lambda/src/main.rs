//! The floor for cold starts: the same runtime crate (`lambda_http`) and async runtime (tokio)
//! as the functions, built with the same profile, and nothing else. `make bench-cold-start`
//! prints each function's init time as a ratio to this one's.

use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}

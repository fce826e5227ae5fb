//! The public site: the home page and the information pages, and in development mode the demo
//! people and the development outbox.

pub mod demo;
pub mod dev;
pub mod home;
pub mod pages;

use axum::{Router, routing::get};

use crate::AppState;

/// The public pages; `dev` adds the development-only ones.
pub fn routes(dev: bool) -> Router<AppState> {
    let r = Router::new()
        .route("/", get(home::get))
        .route("/help", get(pages::help))
        .route("/privacy", get(pages::privacy))
        .route("/accessibility", get(pages::accessibility));
    if dev {
        r.route("/demo", get(demo::get))
            .route("/dev/outbox", get(dev::outbox_page))
            .route("/dev/outbox.json", get(dev::outbox_json))
    } else {
        r
    }
}

//! The browser entry point: hydrates the server-rendered page into the live app.

#![recursion_limit = "512"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Waits for the current page's code chunk (lazy routes, issue 16) before hydrating.
    leptos::mount::hydrate_lazy(app::App);
}

pub mod locator;

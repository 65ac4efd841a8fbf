// Entry of the bundle (static/app.js): theme first, then the page named by <body data-page>.
import "./style.css";
import { readContext } from "./lib/context";
import { followTheme } from "./lib/theme";
import { start } from "./router";

followTheme();
void start(readContext());

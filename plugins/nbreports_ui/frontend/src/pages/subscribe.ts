// The report page's Subscribe / Unsubscribe toggle, for everyone who may view the report: its
// subscribers get what the report's notify rules send to "the report's subscribers", by email.
// The button's aria-pressed says whether the user is subscribed, the status line where mails go;
// the address is the Airflow account's unless one is typed (the server refuses a bad one).
import { h, setText } from "../lib/dom";
import type { Context } from "../lib/context";
import type { Subscription } from "../lib/types";

const message = (err: unknown): string => err instanceof Error ? err.message : String(err);

export class SubscribeToggle {
  readonly element: HTMLElement;
  readonly button: HTMLButtonElement;
  readonly email: HTMLInputElement;
  readonly status: HTMLElement;
  private state: Subscription | null = null;

  constructor(private readonly ctx: Context, private readonly name: string) {
    this.status = h("p", { class: "muted write-status", id: "subscribe-status", role: "status" });
    this.button = h("button", { type: "button", id: "subscribe", "aria-pressed": "false",
      "aria-describedby": "subscribe-status", disabled: true, text: "Subscribe", onclick: () => { void this.toggle(); } });
    this.email = h("input", { type: "email", id: "subscribe-email", autocomplete: "email",
      "aria-label": "address for notifications (optional)", placeholder: "address (default: your account's)" });
    this.element = h("div", { class: "filters", id: "subscription" }, this.button, this.email, this.status);
  }

  private get path(): string { return `/reports/${encodeURIComponent(this.name)}/subscription`; }

  /** Ask whether the user is subscribed; a failure disables the toggle and says why (the page still loads). */
  async load(): Promise<void> {
    try {
      this.show(await this.ctx.api.get<Subscription>(this.path));
    } catch (err) {
      this.say(`Subscription unknown: ${message(err)}`, true);
    }
  }

  /** Draw `state`: the button's label and pressed state, the status line. */
  show(state: Subscription): void {
    this.state = state;
    setText(this.button, state.subscribed ? "Unsubscribe" : "Subscribe");
    this.button.setAttribute("aria-pressed", String(state.subscribed));
    this.button.disabled = false;
    this.email.hidden = state.subscribed;
    this.say(state.subscribed
      ? `Subscribed: notification mails go to ${state.email ?? "your account's address"}.`
      : "Not subscribed: subscribe to get this report's notifications for its subscribers by email.", false);
  }

  /** Subscribe (PUT, with the typed address if any) or unsubscribe (DELETE). */
  async toggle(): Promise<void> {
    if (!this.state) return;
    const subscribing = !this.state.subscribed;
    const typed = this.email.value.trim();
    this.button.disabled = true;
    try {
      this.show(subscribing
        ? await this.ctx.api.send<Subscription>("PUT", this.path, typed ? { email: typed } : undefined)
        : await this.ctx.api.send<Subscription>("DELETE", this.path));
    } catch (err) {
      this.button.disabled = false;
      this.say(`${subscribing ? "Not subscribed" : "Still subscribed"}: ${message(err)}`, true);
    }
  }

  private say(text: string, failed: boolean): void {
    setText(this.status, text);
    this.status.classList.toggle("error", failed);
  }
}

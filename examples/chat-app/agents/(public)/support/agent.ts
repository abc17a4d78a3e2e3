import { Agent } from "ayjnt";

/* "(public)" is a route group: this agent is served at /support.
   It was added after the last `ayjnt build`, so the lockfile does not know it yet. */
export default class SupportAgent extends Agent<Env> {
  async onRequest(request: Request) {
    return new Response("How can we help?");
  }
}

import { Agent } from "ayjnt";

type ChatState = { messages: string[] };

// A plain agent: its agentId defaults to the folder path ("chat").
export default class ChatAgent extends Agent<Env, ChatState> {
  initialState: ChatState = { messages: [] };

  async onMessage(connection: Connection, message: string) {
    this.setState({ messages: [...this.state.messages, message] });
  }
}

// Cuts the chaincode's output into lines the peer's log reader can take (bufio.Scanner's 64 KiB limit).

/** Under bufio.Scanner's 64 KiB line limit in the peer, with room for the peer's own prefix. */
export const MAX_CHAINCODE_LINE = 16 * 1024;

/** Cuts a byte stream into lines no longer than `max`, for a reader that gives up on long lines. */
export class LineCapper {
  private pending = '';
  private cut = 0;
  constructor(private readonly max: number, private readonly out: (line: string) => void) {}

  push(chunk: string): void {
    let text = this.pending + chunk;
    this.pending = '';
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      this.emit(text.slice(0, nl));
      text = text.slice(nl + 1);
    }
    if (this.cut > 0) {
      this.cut += text.length;
    } else if (Buffer.byteLength(text) > this.max) {
      const head = this.capped(text);
      this.out(head);
      this.cut = text.length - head.length;
    } else {
      this.pending = text;
    }
  }

  end(): void {
    if (this.pending || this.cut) this.emit(this.pending);
    this.pending = '';
  }

  private emit(line: string): void {
    if (this.cut > 0) {
      // the head of this line went out already; only say how much was dropped
      this.cut += line.length;
      this.out(`[extbuilder run: ${this.cut} more characters of that line dropped]`);
      this.cut = 0;
    } else if (Buffer.byteLength(line) > this.max) {
      const head = this.capped(line);
      this.out(`${head} [extbuilder run: ${line.length - head.length} more characters dropped]`);
    } else {
      this.out(line);
    }
  }

  /** The longest head of `line` within `max` bytes, not splitting a character. */
  private capped(line: string): string {
    const head = Buffer.from(line).subarray(0, this.max).toString();
    return head.endsWith('\uFFFD') && !line.startsWith(head) ? head.slice(0, -1) : head;
  }
}

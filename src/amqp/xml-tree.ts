/**
 * The XPath data model of a plain-shape event, as the DOM-free reader (fast-event.ts) builds it
 * next to the payload object when an XQuery will run: element, attribute and text nodes with
 * their order, which the payload object loses (it trims text and groups repeated children).
 *
 * Every element is in the document's one namespace (the reader refuses prefixes and `xmlns`
 * attributes below the root), every attribute in no namespace; `ord` is the document order
 * (element, then its attributes, then its children), which path steps sort and deduplicate by.
 */
export interface XDoc {
  kind: 9;
  ord: 0;
  /** Namespace URI of every element ("" for none). */
  ns: string;
  /** The `Event` element (with the whitespace around the event element as text nodes). */
  kids: XElem[];
  parent: null;
  /** Elements in the document, the root included. */
  elements: number;
  /** Deepest element nesting, the root being level 1. */
  depth: number;
}

export interface XElem {
  kind: 1;
  ord: number;
  name: string;
  attrs: XAttr[] | undefined;
  kids: Array<XElem | XText>;
  parent: XElem | XDoc;
  /** The string value, computed on first use. */
  text?: string;
}

export interface XAttr {
  kind: 2;
  ord: number;
  name: string;
  value: string;
  parent: XElem;
}

export interface XText {
  kind: 3;
  ord: number;
  value: string;
  parent: XElem;
}

export type XNode = XDoc | XElem | XAttr | XText;

/** The string value of a node: an element's and the document's is the text of all descendants, in order. */
export function stringValue(n: XNode): string {
  if (n.kind === 2 || n.kind === 3) return n.value;
  if (n.kind === 9) return stringValue(n.kids[0]);
  if (n.text === undefined) {
    let s = "";
    for (const k of n.kids) s += k.kind === 3 ? k.value : stringValue(k);
    n.text = s;
  }
  return n.text;
}

import { Node } from "slimdom";
import { XNode } from "../../../../src/amqp/xml-tree";

/**
 * A node tree written out (kind, name, namespace, attributes, text, in document order), from the
 * DOM-free reader's tree or from a slimdom DOM, so a test can compare the two. The document's
 * namespace is written on every element of the reader's tree: that is what its nodes stand for.
 */
export function treeShape(n: XNode, ns: string): string {
  switch (n.kind) {
    case 9:
      return `doc(${n.kids.map((k) => treeShape(k, ns)).join("")})`;
    case 1:
      return `<{${ns}}${n.name}${(n.attrs ?? []).map((a) => ` ${a.name}=${JSON.stringify(a.value)}`).join("")}>${n.kids.map((k) => treeShape(k, ns)).join("")}</>`;
    case 3:
      return `t${JSON.stringify(n.value)}`;
    default:
      return "";
  }
}

export function domShape(n: Node): string {
  switch (n.nodeType) {
    case 9:
      return `doc(${n.childNodes.map(domShape).join("")})`;
    case 1: {
      const el = n as unknown as { localName: string; namespaceURI: string | null; attributes: Array<{ name: string; value: string }> };
      const attrs = el.attributes.filter((a) => a.name !== "xmlns" && !a.name.startsWith("xmlns:"));
      return `<{${el.namespaceURI ?? ""}}${el.localName}${attrs.map((a) => ` ${a.name}=${JSON.stringify(a.value)}`).join("")}>${n.childNodes.map(domShape).join("")}</>`;
    }
    case 3:
      return `t${JSON.stringify((n as unknown as { data: string }).data)}`;
    default:
      return `?${n.nodeType}`;
  }
}

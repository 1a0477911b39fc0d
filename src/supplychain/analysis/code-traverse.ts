/**
 * The AST traversal of the static JavaScript analyser: an iterative post-order walk (explicit stack, so deep
 * nesting cannot overflow the call stack) that reaches the same nodes in the same order as acorn-walk's
 * `fullAncestor` with its base visitor, which the analyser used before and whose semantics the rules rely on:
 * children before their parent, left to right as acorn-walk's base visitor orders them (template quasis before
 * expressions, `do … while` test before body), the callback's `ancestors` ending with the node itself.
 * Like acorn-walk it skips non-computed property and member keys, labels, export specifiers and the `Property`
 * wrappers of object patterns (their keys and values are reached with the pattern as parent).
 */
import type * as acorn from 'acorn';

type Node = acorn.AnyNode;

/** Any ESTree node (acorn's or meriyah's), read generically by field name. */
interface LooseNode {
  type: string;
  [key: string]: unknown;
}

/** Marks, on the work stack, the point where the node on top of the ancestor chain is finished. */
const EXIT: LooseNode = { type: '#exit' };

function pushOne(work: LooseNode[], child: unknown): void {
  if (child) work.push(child as LooseNode);
}

/** Pushes a list's nodes in reverse, so that they are popped (visited) left to right; holes are skipped. */
function pushList(work: LooseNode[], list: unknown): void {
  const a = list as (LooseNode | null)[] | undefined;
  if (!a) return;
  for (let i = a.length - 1; i >= 0; i--) {
    const n = a[i];
    if (n) work.push(n);
  }
}

/** Pushes the children of `n` in reverse visiting order; unknown node types are leaves. */
function pushChildren(n: LooseNode, work: LooseNode[]): void {
  switch (n.type) {
    case 'Identifier':
    case 'Literal':
    case 'ThisExpression':
    case 'TemplateElement':
    case 'PrivateIdentifier':
    case 'Super':
    case 'MetaProperty':
    case 'EmptyStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
    case 'DebuggerStatement':
    case 'ImportSpecifier':
    case 'ImportDefaultSpecifier':
    case 'ImportNamespaceSpecifier':
      return;
    case 'MemberExpression':
      if (n.computed) pushOne(work, n.property);
      pushOne(work, n.object);
      return;
    case 'CallExpression':
    case 'NewExpression':
      pushList(work, n.arguments);
      pushOne(work, n.callee);
      return;
    case 'ExpressionStatement':
    case 'ParenthesizedExpression':
    case 'ChainExpression':
      pushOne(work, n.expression);
      return;
    case 'Program':
    case 'BlockStatement':
    case 'StaticBlock':
    case 'ClassBody':
      pushList(work, n.body);
      return;
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
    case 'AccessorProperty':
      pushOne(work, n.value);
      if (n.computed) pushOne(work, n.key);
      return;
    case 'BinaryExpression':
    case 'LogicalExpression':
    case 'AssignmentExpression':
    case 'AssignmentPattern':
      pushOne(work, n.right);
      pushOne(work, n.left);
      return;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      pushOne(work, n.body);
      pushList(work, n.params);
      pushOne(work, n.id);
      return;
    case 'VariableDeclaration':
      pushList(work, n.declarations);
      return;
    case 'VariableDeclarator':
      pushOne(work, n.init);
      pushOne(work, n.id);
      return;
    case 'ObjectExpression':
      pushList(work, n.properties);
      return;
    case 'ArrayExpression':
    case 'ArrayPattern':
      pushList(work, n.elements);
      return;
    case 'ReturnStatement':
    case 'YieldExpression':
    case 'AwaitExpression':
    case 'ThrowStatement':
    case 'SpreadElement':
    case 'RestElement':
    case 'UnaryExpression':
    case 'UpdateExpression':
      pushOne(work, n.argument);
      return;
    case 'IfStatement':
    case 'ConditionalExpression':
      pushOne(work, n.alternate);
      pushOne(work, n.consequent);
      pushOne(work, n.test);
      return;
    case 'TemplateLiteral':
      pushList(work, n.expressions);
      pushList(work, n.quasis);
      return;
    case 'SequenceExpression':
      pushList(work, n.expressions);
      return;
    case 'ObjectPattern': {
      const props = n.properties as LooseNode[];
      for (let i = props.length - 1; i >= 0; i--) {
        const p = props[i]!;
        if (p.type === 'Property') {
          pushOne(work, p.value);
          if (p.computed) pushOne(work, p.key);
        } else if (p.type === 'RestElement') pushOne(work, p.argument);
      }
      return;
    }
    case 'LabeledStatement':
      pushOne(work, n.body);
      return;
    case 'WithStatement':
      pushOne(work, n.body);
      pushOne(work, n.object);
      return;
    case 'SwitchStatement':
      pushList(work, n.cases);
      pushOne(work, n.discriminant);
      return;
    case 'SwitchCase':
      pushList(work, n.consequent);
      pushOne(work, n.test);
      return;
    case 'TryStatement':
      pushOne(work, n.finalizer);
      pushOne(work, n.handler);
      pushOne(work, n.block);
      return;
    case 'CatchClause':
      pushOne(work, n.body);
      pushOne(work, n.param);
      return;
    case 'WhileStatement':
    case 'DoWhileStatement':
      pushOne(work, n.body);
      pushOne(work, n.test);
      return;
    case 'ForStatement':
      pushOne(work, n.body);
      pushOne(work, n.update);
      pushOne(work, n.test);
      pushOne(work, n.init);
      return;
    case 'ForInStatement':
    case 'ForOfStatement':
      pushOne(work, n.body);
      pushOne(work, n.right);
      pushOne(work, n.left);
      return;
    case 'ClassDeclaration':
    case 'ClassExpression':
      pushOne(work, n.body);
      pushOne(work, n.superClass);
      pushOne(work, n.id);
      return;
    case 'TaggedTemplateExpression':
      pushOne(work, n.quasi);
      pushOne(work, n.tag);
      return;
    case 'ImportDeclaration':
      pushList(work, n.attributes);
      pushOne(work, n.source);
      pushList(work, n.specifiers);
      return;
    case 'ExportNamedDeclaration':
    case 'ExportDefaultDeclaration':
      pushList(work, n.attributes);
      pushOne(work, n.source);
      pushOne(work, n.declaration);
      return;
    case 'ExportAllDeclaration':
      pushList(work, n.attributes);
      pushOne(work, n.source);
      pushOne(work, n.exported);
      return;
    case 'ImportAttribute':
      pushOne(work, n.value);
      return;
    case 'ImportExpression':
      pushOne(work, n.options);
      pushOne(work, n.source);
      return;
    default:
      return;
  }
}

/**
 * Calls `visit(node, ancestors)` for every reached node of `root`, children first; `ancestors` runs from the
 * root to the node itself and is the same (mutated) array on every call, valid only during the call.
 * @example walkPostOrder(ast, (node, ancestors) => console.log(node.type, ancestors.length))
 */
export function walkPostOrder(root: Node, visit: (node: Node, ancestors: Node[]) => void): void {
  const ancestors: Node[] = [];
  const work: LooseNode[] = [root as unknown as LooseNode];
  while (work.length > 0) {
    const n = work.pop()!;
    if (n === EXIT) {
      visit(ancestors[ancestors.length - 1]!, ancestors);
      ancestors.pop();
      continue;
    }
    ancestors.push(n as unknown as Node);
    work.push(EXIT);
    pushChildren(n, work);
  }
}

import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isListType,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLOutputType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  isObjectType,
  isInterfaceType,
  __Schema,
  __Type,
} from 'graphql';

/** Introspection's root fields, costed like any other field (their lists multiply like lists). */
const INTROSPECTION_ROOTS: Record<string, GraphQLOutputType> = { __schema: __Schema, __type: __Type };

/** Multiplier of a list field when no size argument bounds it. */
const DEFAULT_LIST_SIZE = 20;
/** List fields whose size without an argument is not {@link DEFAULT_LIST_SIZE} (the server's own default bound). */
const DEFAULT_SIZES: Record<string, number> = { metrics: 2000, predictions: 50, completions: 50 };
/** Arguments that bound how many items a list field returns. */
const SIZE_ARGS = ['first', 'last', 'downsample', 'limit'];

function argValue(node: FieldNode, name: string, variables: Record<string, unknown>): number | undefined {
  const arg = node.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  if (arg.value.kind === Kind.INT) return Number(arg.value.value);
  if (arg.value.kind === Kind.VARIABLE) {
    const v = variables[arg.value.name.value];
    return typeof v === 'number' ? v : undefined;
  }
  return undefined;
}

interface Walk {
  depth: number;
  cost: number;
}

/**
 * Computes the depth and an estimated cost of an operation: each field costs 1, and a list
 * field multiplies its subtree by its size argument (first/last/downsample/limit) or by a
 * default of 20. Fragments are followed; cycles are cut (the spec's own rule reports them).
 */
export function measure(
  selectionSet: SelectionSetNode,
  parentType: GraphQLOutputType,
  fragments: Record<string, FragmentDefinitionNode>,
  schemaField: (type: GraphQLOutputType, name: string) => GraphQLField<unknown, unknown> | undefined,
  variables: Record<string, unknown> = {},
  seen: Set<string> = new Set(),
): Walk {
  let depth = 0;
  let cost = 0;
  for (const sel of selectionSet.selections) {
    if (sel.kind === Kind.FIELD) {
      const root = INTROSPECTION_ROOTS[sel.name.value];
      const field = root ? undefined : schemaField(parentType, sel.name.value);
      const subType = root ?? (field ? (getNamedType(field.type) as GraphQLOutputType) : undefined);
      let sub: Walk = { depth: 0, cost: 0 };
      if (sel.selectionSet && subType) sub = measure(sel.selectionSet, subType, fragments, schemaField, variables, seen);
      const list = field ? isListType(getNullableType(field.type)) : false;
      const size = SIZE_ARGS.map((a) => argValue(sel, a, variables)).find((v) => v !== undefined);
      const connection = !list && field && /Connection$/.test(getNamedType(field.type).name);
      const factor = list || connection ? Math.max(1, size ?? DEFAULT_SIZES[sel.name.value] ?? DEFAULT_LIST_SIZE) : 1;
      cost += 1 + factor * sub.cost;
      depth = Math.max(depth, 1 + sub.depth);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const sub = measure(sel.selectionSet, parentType, fragments, schemaField, variables, seen);
      cost += sub.cost;
      depth = Math.max(depth, sub.depth);
    } else {
      const name = sel.name.value;
      const frag = fragments[name];
      if (!frag || seen.has(name)) continue;
      const sub = measure(frag.selectionSet, parentType, fragments, schemaField, variables, new Set([...seen, name]));
      cost += sub.cost;
      depth = Math.max(depth, sub.depth);
    }
  }
  return { depth, cost };
}

/** A validation rule that rejects operations deeper than `maxDepth` or costlier than `maxCost`. */
export function queryLimitsRule(maxDepth: number, maxCost: number, variables: Record<string, unknown> = {}): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const schema = context.getSchema();
    const schemaField = (type: GraphQLOutputType, name: string): GraphQLField<unknown, unknown> | undefined => {
      const t = getNamedType(type);
      return isObjectType(t) || isInterfaceType(t) ? t.getFields()[name] : undefined;
    };
    return {
      OperationDefinition(node) {
        const root = node.operation === 'query' ? schema.getQueryType() : node.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
        if (!root) return;
        const fragments: Record<string, FragmentDefinitionNode> = {};
        for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
        const { depth, cost } = measure(node.selectionSet, root, fragments, schemaField, variables);
        if (depth > maxDepth) {
          context.reportError(new GraphQLError(`Query depth ${depth} exceeds the limit of ${maxDepth}. Fix: select fewer nested levels`, { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'depth', value: depth, max: maxDepth } }));
        }
        if (cost > maxCost) {
          context.reportError(
            new GraphQLError(`Query cost ${cost} exceeds the limit of ${maxCost}. Fix: lower first/downsample/last arguments or select fewer fields`, { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost', value: cost, max: maxCost } }),
          );
        }
      },
    };
  };
}

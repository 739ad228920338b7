// Command vap-check evaluates ValidatingAdmissionPolicies and their bindings offline with the API server's
// own admission code (k8s.io/apiserver/pkg/admission/plugin/policy/{validating,generic,matching}): CEL
// compilation, resource rules with excludeResourceRules and matchPolicy, namespaceSelector and
// objectSelector, matchConditions, variables, params through paramKind/paramRef with
// parameterNotFoundAction, validationActions, failurePolicy, messageExpression and auditAnnotations.
//
// Input: one JSON document on stdin:
//
//	{"mode": "evaluate"|"typecheck",
//	 "policies": [<ValidatingAdmissionPolicy>], "bindings": [<ValidatingAdmissionPolicyBinding>],
//	 "params": [<object>], "paramKinds": [{"apiVersion", "kind", "resource", "namespaced"}],
//	 "namespaces": [<Namespace>],
//	 "requests": [{"id", "operation": "CREATE"|"UPDATE", "object", "oldObject", "namespace",
//	               "resource", "subResource", "userInfo": {"username", "uid", "groups", "extra"}}],
//	 "kubernetesVersion": "1.NN", "schemas": {"api/v1": <OpenAPI v3 document>, ...}}
//
// Output (evaluate): one JSON document: the compile errors of every policy, and per request every
// decision of every matching policy and binding. Errors are reported as errors: under failurePolicy Fail
// they deny (as the API server does) and carry "error": true; under Ignore they are listed in
// "ignoredErrors", never dropped.
//
// Output (typecheck): per policy the TypeChecker's warnings (what the API server writes to
// status.typeChecking), the expressions an API server of the given minor rejects on create, and the
// estimated CEL cost of every expression against the per-call limit and the per-binding budget.
//
// The API server compiles a policy with an unexported function (validating.compilePolicy); compilePolicy
// below is an equivalent built from the same exported pieces. The API server also applies the
// admissionregistration/v1 defaults before it stores a policy; setDefaults below is the equivalent of
// k8s.io/kubernetes/pkg/apis/admissionregistration/v1/defaults.go. Everything else is upstream code.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	celgo "github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"google.golang.org/protobuf/types/known/structpb"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	k8serrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilversion "k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/generic"
	"k8s.io/apiserver/pkg/admission/plugin/policy/matching"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/common"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/apiserver/pkg/cel/library"
	"k8s.io/apiserver/pkg/cel/openapi"
	"k8s.io/apiserver/pkg/cel/openapi/resolver"
	"k8s.io/client-go/dynamic/dynamicinformer"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

type paramKindMapping struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Resource   string `json:"resource"`
	Namespaced bool   `json:"namespaced"`
}

type userInfo struct {
	Username string              `json:"username"`
	UID      string              `json:"uid"`
	Groups   []string            `json:"groups"`
	Extra    map[string][]string `json:"extra"`
}

type request struct {
	ID          string          `json:"id"`
	Operation   string          `json:"operation"`
	Object      json.RawMessage `json:"object"`
	OldObject   json.RawMessage `json:"oldObject"`
	Namespace   *string         `json:"namespace"`
	Resource    string          `json:"resource"`
	SubResource string          `json:"subResource"`
	UserInfo    *userInfo       `json:"userInfo"`
}

type input struct {
	Mode              string                     `json:"mode"`
	Policies          []json.RawMessage          `json:"policies"`
	Bindings          []json.RawMessage          `json:"bindings"`
	Params            []json.RawMessage          `json:"params"`
	ParamKinds        []paramKindMapping         `json:"paramKinds"`
	Namespaces        []json.RawMessage          `json:"namespaces"`
	Requests          []request                  `json:"requests"`
	KubernetesVersion string                     `json:"kubernetesVersion"`
	Schemas           map[string]json.RawMessage `json:"schemas"`
	// AssumedItems (typecheck mode): estimate the cost again with every list and map the schemas leave
	// unbounded (or bound higher) holding at most this many items, once per value; strings then hold at most
	// AssumedChars characters.
	AssumedItems []uint64 `json:"assumedItems"`
	AssumedChars uint64   `json:"assumedChars"`
}

type decision struct {
	Policy  string `json:"policy"`
	Binding string `json:"binding,omitempty"`
	// Action is Deny, Warn or Audit: one decision per validation action of the binding.
	Action string `json:"action"`
	// Message is the validation's message (message, messageExpression or the default text).
	Message string `json:"message"`
	Reason  string `json:"reason,omitempty"`
	// Error marks a decision that comes from an error (compilation, evaluation, configuration, params)
	// under failurePolicy Fail.
	Error bool `json:"error,omitempty"`
}

type ignoredError struct {
	Policy  string `json:"policy"`
	Binding string `json:"binding,omitempty"`
	Message string `json:"message"`
}

type annotation struct {
	Policy string `json:"policy"`
	Key    string `json:"key"`
	Value  string `json:"value"`
}

type pair struct {
	Policy  string `json:"policy"`
	Binding string `json:"binding"`
}

type result struct {
	ID string `json:"id"`
	// Matched lists the policy/binding pairs that matched the request (before matchConditions).
	Matched          []pair         `json:"matched"`
	Decisions        []decision     `json:"decisions"`
	IgnoredErrors    []ignoredError `json:"ignoredErrors"`
	AuditAnnotations []annotation   `json:"auditAnnotations"`
	// Allowed, Status and Warnings are what the API server answers: the first denial (policies by name,
	// bindings by name) as its error text, and the warning texts.
	Allowed  bool     `json:"allowed"`
	Status   string   `json:"status,omitempty"`
	Warnings []string `json:"warnings"`
	// Error is set when the request cannot be evaluated at all (bad input).
	Error string `json:"error,omitempty"`
}

type policyInfo struct {
	Name          string   `json:"name"`
	CompileErrors []string `json:"compileErrors"`
	// Bindings names the bindings that refer to the policy.
	Bindings []string `json:"bindings"`
}

type output struct {
	Policies []policyInfo `json:"policies"`
	Results  []result     `json:"results"`
	// Errors lists input objects that could not be read (they take no part in the evaluation).
	Errors []string `json:"errors"`
}

func main() {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fail(fmt.Errorf("reading the input: %w", err))
	}
	var out any
	switch in.Mode {
	case "", "evaluate":
		out, err = evaluate(&in)
	case "typecheck":
		out, err = typecheck(&in)
	default:
		err = fmt.Errorf("unknown mode %q (evaluate, typecheck)", in.Mode)
	}
	if err != nil {
		fail(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "vap-check: %v\n", err)
	os.Exit(2)
}

// setDefaults applies the admissionregistration/v1 defaults the API server applies before storing.
func setDefaultsMatch(m *admissionv1.MatchResources) {
	if m == nil {
		return
	}
	if m.MatchPolicy == nil {
		p := admissionv1.Equivalent
		m.MatchPolicy = &p
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	for _, rules := range [][]admissionv1.NamedRuleWithOperations{m.ResourceRules, m.ExcludeResourceRules} {
		for i := range rules {
			if rules[i].Scope == nil {
				s := admissionv1.AllScopes
				rules[i].Scope = &s
			}
		}
	}
}

func setDefaultsPolicy(p *admissionv1.ValidatingAdmissionPolicy) {
	if p.Spec.FailurePolicy == nil {
		f := admissionv1.Fail
		p.Spec.FailurePolicy = &f
	}
	setDefaultsMatch(p.Spec.MatchConstraints)
}

func setDefaultsBinding(b *admissionv1.ValidatingAdmissionPolicyBinding) {
	setDefaultsMatch(b.Spec.MatchResources)
}

// compilePolicy is the equivalent of the API server's validating.compilePolicy (unexported).
func compilePolicy(policy *admissionv1.ValidatingAdmissionPolicy) validating.Validator {
	hasParam := policy.Spec.ParamKind != nil
	optionalVars := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: true}
	expressionOptionalVars := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: false}
	failurePolicy := policy.Spec.FailurePolicy
	var matcher matchconditions.Matcher
	filterCompiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		return validating.NewValidator(nil, nil, nil, nil, failurePolicy, err)
	}
	variables := make([]plugincel.NamedExpressionAccessor, len(policy.Spec.Variables))
	for i, v := range policy.Spec.Variables {
		variables[i] = &validating.Variable{Name: v.Name, Expression: v.Expression}
	}
	filterCompiler.CompileAndStoreVariables(variables, optionalVars, environment.StoredExpressions)
	if len(policy.Spec.MatchConditions) > 0 {
		accessors := make([]plugincel.ExpressionAccessor, len(policy.Spec.MatchConditions))
		for i := range policy.Spec.MatchConditions {
			accessors[i] = (*matchconditions.MatchCondition)(&policy.Spec.MatchConditions[i])
		}
		matcher = matchconditions.NewMatcher(filterCompiler.CompileCondition(accessors, optionalVars, environment.StoredExpressions), failurePolicy, "policy", "validate", policy.Name)
	}
	validations := make([]plugincel.ExpressionAccessor, len(policy.Spec.Validations))
	messages := make([]plugincel.ExpressionAccessor, len(policy.Spec.Validations))
	for i, v := range policy.Spec.Validations {
		validations[i] = &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason}
		if v.MessageExpression != "" {
			messages[i] = &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
		}
	}
	audits := make([]plugincel.ExpressionAccessor, len(policy.Spec.AuditAnnotations))
	for i, a := range policy.Spec.AuditAnnotations {
		audits[i] = &validating.AuditAnnotationCondition{Key: a.Key, ValueExpression: a.ValueExpression}
	}
	return validating.NewValidator(
		filterCompiler.CompileCondition(validations, optionalVars, environment.StoredExpressions),
		matcher,
		filterCompiler.CompileCondition(audits, optionalVars, environment.StoredExpressions),
		filterCompiler.CompileCondition(messages, expressionOptionalVars, environment.StoredExpressions),
		failurePolicy,
		nil,
	)
}

// compileErrors lists the expressions of a policy that do not compile (the API server rejects such a
// policy on create; evaluated anyway, each failing expression is an error under the failure policy).
func compileErrors(p *admissionv1.ValidatingAdmissionPolicy, envSet *environment.EnvSet, mode environment.Type) []string {
	hasParam := p.Spec.ParamKind != nil
	opts := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: true}
	msgOpts := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: false}
	c, err := plugincel.NewCompositedCompiler(envSet)
	if err != nil {
		return []string{err.Error()}
	}
	var errs []string
	check := func(path string, r plugincel.CompilationResult) {
		if r.Error != nil {
			errs = append(errs, fmt.Sprintf("%s: %s", path, r.Error.Detail))
		}
	}
	for i, v := range p.Spec.Variables {
		check(fmt.Sprintf("spec.variables[%d].expression", i), c.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, opts, mode))
	}
	for i := range p.Spec.MatchConditions {
		check(fmt.Sprintf("spec.matchConditions[%d].expression", i), c.CompileCELExpression((*matchconditions.MatchCondition)(&p.Spec.MatchConditions[i]), opts, mode))
	}
	for i, v := range p.Spec.Validations {
		check(fmt.Sprintf("spec.validations[%d].expression", i), c.CompileCELExpression(&validating.ValidationCondition{Expression: v.Expression}, opts, mode))
		if v.MessageExpression != "" {
			check(fmt.Sprintf("spec.validations[%d].messageExpression", i), c.CompileCELExpression(&validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}, msgOpts, mode))
		}
	}
	for i, a := range p.Spec.AuditAnnotations {
		check(fmt.Sprintf("spec.auditAnnotations[%d].valueExpression", i), c.CompileCELExpression(&validating.AuditAnnotationCondition{Key: a.Key, ValueExpression: a.ValueExpression}, opts, mode))
	}
	return errs
}

// noOpinion is the authorizer the `authorizer` CEL variable sees: it decides nothing (offline there is
// no RBAC to ask).
type noOpinion struct{}

func (noOpinion) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return authorizer.DecisionNoOpinion, "offline evaluation has no authorizer", nil
}

type hook struct {
	policy        *admissionv1.ValidatingAdmissionPolicy
	bindings      []*admissionv1.ValidatingAdmissionPolicyBinding
	evaluator     validating.Validator
	paramInformer informers.GenericInformer
	paramScope    meta.RESTScope
	configErr     error
}

type world struct {
	hooks      []hook
	matcher    generic.PolicyMatcher
	objects    admission.ObjectInterfaces
	dynamic    *dynamicfake.FakeDynamicClient
	restMapper meta.RESTMapper
	nsIndexer  cache.Indexer
	policies   []policyInfo
	errors     []string
}

func decodeObjects[T any](raws []json.RawMessage, what string, errs *[]string) []*T {
	var out []*T
	for i, r := range raws {
		v := new(T)
		if err := json.Unmarshal(r, v); err != nil {
			*errs = append(*errs, fmt.Sprintf("%s[%d]: %v", what, i, err))
			continue
		}
		out = append(out, v)
	}
	return out
}

func ensureNamespaceLabel(ns *corev1.Namespace) {
	// The API server always sets this label to the namespace's name.
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

func buildWorld(ctx context.Context, in *input) (*world, error) {
	w := &world{}
	policies := decodeObjects[admissionv1.ValidatingAdmissionPolicy](in.Policies, "policies", &w.errors)
	bindings := decodeObjects[admissionv1.ValidatingAdmissionPolicyBinding](in.Bindings, "bindings", &w.errors)
	namespaces := decodeObjects[corev1.Namespace](in.Namespaces, "namespaces", &w.errors)

	w.nsIndexer = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	var nsObjects []runtime.Object
	for _, ns := range namespaces {
		ensureNamespaceLabel(ns)
		if err := w.nsIndexer.Add(ns); err != nil {
			return nil, err
		}
		nsObjects = append(nsObjects, ns)
	}
	client := fake.NewSimpleClientset(nsObjects...)
	w.matcher = generic.NewPolicyMatcher(matching.NewMatcher(corelisters.NewNamespaceLister(w.nsIndexer), client))

	scheme := runtime.NewScheme()
	w.objects = admission.NewObjectInterfacesFromScheme(scheme)

	// Param kinds: the given mappings, the built-in ConfigMap and Secret, and those of the given params.
	mapper := meta.NewDefaultRESTMapper(nil)
	listKinds := map[schema.GroupVersionResource]string{}
	addKind := func(m paramKindMapping) {
		gv, err := schema.ParseGroupVersion(m.APIVersion)
		if err != nil || m.Kind == "" {
			w.errors = append(w.errors, fmt.Sprintf("paramKinds: invalid %s/%s", m.APIVersion, m.Kind))
			return
		}
		gvk := gv.WithKind(m.Kind)
		if _, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
			return
		}
		resource := m.Resource
		if resource == "" {
			plural, _ := meta.UnsafeGuessKindToResource(gvk)
			resource = plural.Resource
		}
		gvr := gv.WithResource(resource)
		scope := meta.RESTScopeRoot
		if m.Namespaced {
			scope = meta.RESTScopeNamespace
		}
		mapper.AddSpecific(gvk, gvr, gv.WithResource(strings.ToLower(m.Kind)), scope)
		listKinds[gvr] = m.Kind + "List"
	}
	for _, m := range in.ParamKinds {
		addKind(m)
	}
	addKind(paramKindMapping{APIVersion: "v1", Kind: "ConfigMap", Resource: "configmaps", Namespaced: true})
	addKind(paramKindMapping{APIVersion: "v1", Kind: "Secret", Resource: "secrets", Namespaced: true})
	var params []runtime.Object
	for i, r := range in.Params {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(r); err != nil {
			w.errors = append(w.errors, fmt.Sprintf("params[%d]: %v", i, err))
			continue
		}
		addKind(paramKindMapping{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespaced: u.GetNamespace() != ""})
		params = append(params, u)
	}
	w.restMapper = mapper
	w.dynamic = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, params...)

	byPolicy := map[string][]*admissionv1.ValidatingAdmissionPolicyBinding{}
	for _, b := range bindings {
		setDefaultsBinding(b)
		byPolicy[b.Spec.PolicyName] = append(byPolicy[b.Spec.PolicyName], b)
	}
	sort.Slice(policies, func(i, j int) bool { return policies[i].Name < policies[j].Name })
	informersByGVK := map[schema.GroupVersionKind]informers.GenericInformer{}
	envSet := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())
	for _, p := range policies {
		setDefaultsPolicy(p)
		bs := byPolicy[p.Name]
		sort.Slice(bs, func(i, j int) bool { return bs[i].Name < bs[j].Name })
		info := policyInfo{Name: p.Name, CompileErrors: compileErrors(p, envSet, environment.StoredExpressions), Bindings: []string{}}
		for _, b := range bs {
			info.Bindings = append(info.Bindings, b.Name)
		}
		if info.CompileErrors == nil {
			info.CompileErrors = []string{}
		}
		w.policies = append(w.policies, info)
		if len(bs) == 0 {
			// Like the API server: a policy without a binding is never evaluated.
			continue
		}
		h := hook{policy: p, bindings: bs, evaluator: compilePolicy(p)}
		if pk := p.Spec.ParamKind; pk != nil {
			gv, err := schema.ParseGroupVersion(pk.APIVersion)
			if err != nil {
				w.errors = append(w.errors, fmt.Sprintf("policy %s: failed to parse paramKind APIVersion: %v", p.Name, err))
				continue
			}
			gvk := gv.WithKind(pk.Kind)
			mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				// The policy source's own message for an unknown param kind.
				h.configErr = fmt.Errorf("failed to find resource referenced by paramKind: '%v'", gvk)
			} else {
				inf, ok := informersByGVK[gvk]
				if !ok {
					inf = dynamicinformer.NewFilteredDynamicInformer(w.dynamic, mapping.Resource, corev1.NamespaceAll, 10*time.Minute, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}, nil)
					go inf.Informer().Run(ctx.Done())
					if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
						return nil, fmt.Errorf("the informer for %v did not sync", gvk)
					}
					informersByGVK[gvk] = inf
				}
				h.paramInformer = inf
				h.paramScope = mapping.Scope
			}
		}
		w.hooks = append(w.hooks, h)
	}
	for name := range byPolicy {
		found := false
		for _, p := range policies {
			found = found || p.Name == name
		}
		if !found {
			// The API server skips bindings of a policy that does not exist.
			w.errors = append(w.errors, fmt.Sprintf("bindings of policy %q, which is not given, are skipped", name))
		}
	}
	sort.Strings(w.errors)
	return w, nil
}

func (w *world) attributes(r *request) (admission.Attributes, error) {
	var obj, old *unstructured.Unstructured
	if len(r.Object) > 0 && string(r.Object) != "null" {
		obj = &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(r.Object); err != nil {
			return nil, fmt.Errorf("object: %w", err)
		}
	}
	if len(r.OldObject) > 0 && string(r.OldObject) != "null" {
		old = &unstructured.Unstructured{}
		if err := old.UnmarshalJSON(r.OldObject); err != nil {
			return nil, fmt.Errorf("oldObject: %w", err)
		}
	}
	var op admission.Operation
	switch r.Operation {
	case "CREATE", "":
		op = admission.Create
		if obj == nil {
			return nil, errors.New("a CREATE needs an object")
		}
		if old != nil {
			return nil, errors.New("a CREATE has no oldObject")
		}
	case "UPDATE":
		op = admission.Update
		if obj == nil || old == nil {
			return nil, errors.New("an UPDATE needs an object and an oldObject")
		}
	default:
		return nil, fmt.Errorf("operation %q is not supported (CREATE, UPDATE)", r.Operation)
	}
	gvk := obj.GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return nil, errors.New("the object has no apiVersion or kind")
	}
	var gvr schema.GroupVersionResource
	if r.Resource != "" {
		gvr = gvk.GroupVersion().WithResource(r.Resource)
	} else {
		gvr, _ = meta.UnsafeGuessKindToResource(gvk)
	}
	ns := obj.GetNamespace()
	if r.Namespace != nil {
		ns = *r.Namespace
	}
	if ns != "" {
		if _, exists, _ := w.nsIndexer.GetByKey(ns); !exists {
			// A namespaced object lives in an existing namespace: one not given has only the label the API
			// server sets on every namespace.
			n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
			ensureNamespaceLabel(n)
			if err := w.nsIndexer.Add(n); err != nil {
				return nil, err
			}
		}
	}
	var info user.Info = &user.DefaultInfo{}
	if r.UserInfo != nil {
		info = &user.DefaultInfo{Name: r.UserInfo.Username, UID: r.UserInfo.UID, Groups: r.UserInfo.Groups, Extra: r.UserInfo.Extra}
	}
	var oldObj runtime.Object
	if old != nil {
		oldObj = old
	}
	var opts runtime.Object = &metav1.CreateOptions{}
	if op == admission.Update {
		opts = &metav1.UpdateOptions{}
	}
	return admission.NewAttributesRecord(obj, oldObj, gvk, ns, obj.GetName(), gvr, r.SubResource, op, opts, false, info), nil
}

// dispatch mirrors validating's dispatcher.Dispatch, keeping every decision instead of the first denial.
func (w *world) dispatch(ctx context.Context, a admission.Attributes) (*result, error) {
	res := &result{Matched: []pair{}, Decisions: []decision{}, IgnoredErrors: []ignoredError{}, AuditAnnotations: []annotation{}, Warnings: []string{}}
	type denial struct {
		policy, binding, message string
		reason                   metav1.StatusReason
	}
	var denials []denial
	addConfigError := func(err error, p *admissionv1.ValidatingAdmissionPolicy, b *admissionv1.ValidatingAdmissionPolicyBinding) {
		bname := ""
		if b != nil {
			bname = b.Name
		}
		policy := admissionv1.Fail
		if p.Spec.FailurePolicy != nil {
			policy = *p.Spec.FailurePolicy
		}
		switch policy {
		case admissionv1.Ignore:
			res.IgnoredErrors = append(res.IgnoredErrors, ignoredError{Policy: p.Name, Binding: bname, Message: err.Error()})
		case admissionv1.Fail:
			var message string
			if b == nil {
				message = fmt.Errorf("failed to configure policy: %w", err).Error()
			} else {
				message = fmt.Errorf("failed to configure binding: %w", err).Error()
			}
			res.Decisions = append(res.Decisions, decision{Policy: p.Name, Binding: bname, Action: "Deny", Message: message, Error: true})
			denials = append(denials, denial{p.Name, bname, message, ""})
		default:
			message := fmt.Errorf("unrecognized failure policy: '%v'", policy).Error()
			res.Decisions = append(res.Decisions, decision{Policy: p.Name, Binding: bname, Action: "Deny", Message: message, Error: true})
			denials = append(denials, denial{p.Name, bname, message, ""})
		}
	}
	versionedAttrs := map[schema.GroupVersionKind]*admission.VersionedAttributes{}
	for _, h := range w.hooks {
		definition := h.policy
		matches, matchResource, matchKind, err := w.matcher.DefinitionMatches(a, w.objects, validating.NewValidatingAdmissionPolicyAccessor(definition))
		if err != nil {
			addConfigError(err, definition, nil)
			continue
		}
		if !matches {
			continue
		} else if h.configErr != nil {
			addConfigError(h.configErr, definition, nil)
			continue
		}
		for _, binding := range h.bindings {
			matches, err := w.matcher.BindingMatches(a, w.objects, validating.NewValidatingAdmissionPolicyBindingAccessor(binding))
			if err != nil {
				addConfigError(err, definition, binding)
				continue
			}
			if !matches {
				continue
			}
			res.Matched = append(res.Matched, pair{definition.Name, binding.Name})
			params, err := generic.CollectParams(definition.Spec.ParamKind, h.paramInformer, h.paramScope, binding.Spec.ParamRef, a.GetNamespace(), w.dynamic, w.restMapper)
			if err != nil {
				addConfigError(err, definition, binding)
				continue
			}
			versionedAttr := versionedAttrs[matchKind]
			if versionedAttr == nil && len(params) > 0 {
				va, err := admission.NewVersionedAttributes(a, matchKind, w.objects)
				if err != nil {
					addConfigError(fmt.Errorf("failed to convert object version: %w", err), definition, binding)
					continue
				}
				versionedAttr = va
				versionedAttrs[matchKind] = va
			}
			var namespace *corev1.Namespace
			namespaceName := a.GetNamespace()
			if gvk := a.GetKind(); gvk.Kind == "Namespace" && gvk.Version == "v1" && gvk.Group == "" {
				namespaceName = ""
			}
			if namespaceName != "" {
				namespace, err = w.matcher.GetNamespace(ctx, namespaceName)
				if err != nil {
					return nil, err
				}
			}
			var results []validating.ValidateResult
			for _, param := range params {
				var p runtime.Object = param
				results = append(results, h.evaluator.Validate(ctx, matchResource, versionedAttr, p, namespace, celconfig.RuntimeCELCostBudget, noOpinion{}))
			}
			for _, vr := range results {
				for _, d := range vr.Decisions {
					switch d.Action {
					case validating.ActionAdmit:
						if d.Evaluation == validating.EvalError {
							res.IgnoredErrors = append(res.IgnoredErrors, ignoredError{Policy: definition.Name, Binding: binding.Name, Message: d.Message})
						}
					case validating.ActionDeny:
						for _, action := range binding.Spec.ValidationActions {
							res.Decisions = append(res.Decisions, decision{Policy: definition.Name, Binding: binding.Name, Action: string(action), Message: d.Message, Reason: string(d.Reason), Error: d.Evaluation == validating.EvalError})
							switch action {
							case admissionv1.Deny:
								denials = append(denials, denial{definition.Name, binding.Name, d.Message, d.Reason})
							case admissionv1.Warn:
								res.Warnings = append(res.Warnings, fmt.Sprintf("Validation failed for ValidatingAdmissionPolicy '%s' with binding '%s': %s", definition.Name, binding.Name, d.Message))
							}
						}
					default:
						return nil, fmt.Errorf("unrecognized evaluation decision '%s' for ValidatingAdmissionPolicyBinding '%s' with ValidatingAdmissionPolicy '%s'", d.Action, binding.Name, definition.Name)
					}
				}
				for _, aa := range vr.AuditAnnotations {
					switch aa.Action {
					case validating.AuditAnnotationActionPublish:
						res.AuditAnnotations = append(res.AuditAnnotations, annotation{Policy: definition.Name, Key: definition.Name + "/" + aa.Key, Value: aa.Value})
					case validating.AuditAnnotationActionError:
						res.Decisions = append(res.Decisions, decision{Policy: definition.Name, Binding: binding.Name, Action: "Deny", Message: aa.Error, Error: true})
						denials = append(denials, denial{definition.Name, binding.Name, aa.Error, ""})
					}
				}
			}
		}
	}
	res.Allowed = len(denials) == 0
	if !res.Allowed {
		d := denials[0]
		var message string
		if d.binding != "" {
			message = fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s", d.policy, d.binding, d.message)
		} else {
			message = fmt.Sprintf("ValidatingAdmissionPolicy '%s' denied request: %s", d.policy, d.message)
		}
		err := admission.NewForbidden(a, errors.New(message)).(*k8serrors.StatusError)
		res.Status = err.Error()
	}
	return res, nil
}

func evaluate(in *input) (*output, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := buildWorld(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &output{Policies: w.policies, Results: []result{}, Errors: w.errors}
	if out.Policies == nil {
		out.Policies = []policyInfo{}
	}
	if out.Errors == nil {
		out.Errors = []string{}
	}
	seen := map[string]bool{}
	for i := range in.Requests {
		r := &in.Requests[i]
		if seen[r.ID] {
			return nil, fmt.Errorf("duplicate request id %q", r.ID)
		}
		seen[r.ID] = true
		a, err := w.attributes(r)
		if err != nil {
			out.Results = append(out.Results, result{ID: r.ID, Error: err.Error(), Matched: []pair{}, Decisions: []decision{}, IgnoredErrors: []ignoredError{}, AuditAnnotations: []annotation{}, Warnings: []string{}})
			continue
		}
		res, err := w.dispatch(ctx, a)
		if err != nil {
			out.Results = append(out.Results, result{ID: r.ID, Error: err.Error(), Matched: []pair{}, Decisions: []decision{}, IgnoredErrors: []ignoredError{}, AuditAnnotations: []annotation{}, Warnings: []string{}})
			continue
		}
		res.ID = r.ID
		out.Results = append(out.Results, *res)
	}
	return out, nil
}

// ---- typecheck mode ----

type expressionWarning struct {
	FieldRef string `json:"fieldRef"`
	Warning  string `json:"warning"`
}

type expressionCost struct {
	FieldRef string `json:"fieldRef"`
	// Kind is the object kind the expression was typed against ("" when no schema was found: untyped).
	Kind string `json:"kind"`
	Min  uint64 `json:"min"`
	Max  uint64 `json:"max"`
	// ExceedsPerCallLimit: the estimate exceeds the per-expression runtime limit.
	ExceedsPerCallLimit bool   `json:"exceedsPerCallLimit"`
	Error               string `json:"error,omitempty"`
	// Assumed is the maximum estimate at each of the input's AssumedItems (the worst target kind).
	Assumed []uint64 `json:"assumed"`
}

type policyTypecheck struct {
	Name string `json:"name"`
	// Kinds are the kinds the TypeChecker resolved from matchConstraints (with a schema).
	Kinds []string `json:"kinds"`
	// Warnings are the TypeChecker's warnings (the API server's status.typeChecking.expressionWarnings).
	Warnings []expressionWarning `json:"warnings"`
	// RejectedOnCreate lists the expressions an API server of the requested minor does not compile for a
	// new policy (libraries and functions it does not have yet).
	RejectedOnCreate []string `json:"rejectedOnCreate"`
	// CompileErrors are expressions (variables included) that do not compile with object typed as one of the
	// kinds the policy matches. The TypeChecker does not report a variable that fails so (it types it dyn and
	// goes on); its cost cannot be estimated either.
	CompileErrors []expressionWarning `json:"compileErrors"`
	Costs         []expressionCost    `json:"costs"`
	// MaxTotal is the sum of the expressions' maximum estimates (all run for one binding and param);
	// ExceedsRuntimeBudget compares it with the per-binding runtime budget.
	MaxTotal             uint64 `json:"maxTotal"`
	ExceedsRuntimeBudget bool   `json:"exceedsRuntimeBudget"`
	// AssumedTotals is MaxTotal at each of the input's AssumedItems.
	AssumedTotals []uint64 `json:"assumedTotals"`
}

type typecheckOutput struct {
	KubernetesVersion string            `json:"kubernetesVersion"`
	PerCallLimit      uint64            `json:"perCallLimit"`
	RuntimeBudget     uint64            `json:"runtimeBudget"`
	Policies          []policyTypecheck `json:"policies"`
	Errors            []string          `json:"errors"`
}

// documentResolver resolves schemas from OpenAPI v3 documents by group-version path (as the API server
// serves them at /openapi/v3/<path>), like resolver.ClientDiscoveryResolver does from discovery.
type documentResolver struct {
	docs map[string]map[string]*spec.Schema
}

func (r *documentResolver) ResolveSchema(gvk schema.GroupVersionKind) (*spec.Schema, error) {
	path := "api/" + gvk.Version
	if gvk.Group != "" {
		path = "apis/" + gvk.Group + "/" + gvk.Version
	}
	schemas, ok := r.docs[path]
	if !ok {
		return nil, fmt.Errorf("cannot resolve group version %q: %w", gvk.GroupVersion(), resolver.ErrSchemaNotFound)
	}
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var gvks []schema.GroupVersionKind
		if err := schemas[n].Extensions.GetObject("x-kubernetes-group-version-kind", &gvks); err != nil {
			return nil, err
		}
		for _, g := range gvks {
			if g == gvk {
				return resolver.PopulateRefs(func(ref string) (*spec.Schema, bool) {
					s, ok := schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
					return s, ok
				}, "#/components/schemas/"+n)
			}
		}
	}
	return nil, fmt.Errorf("cannot resolve group version kind %q: %w", gvk, resolver.ErrSchemaNotFound)
}

func (r *documentResolver) restMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for _, schemas := range r.docs {
		for _, s := range schemas {
			var gvks []schema.GroupVersionKind
			if err := s.Extensions.GetObject("x-kubernetes-group-version-kind", &gvks); err != nil {
				continue
			}
			for _, g := range gvks {
				if g.Kind == "" || strings.HasSuffix(g.Kind, "List") || g.Kind == "Status" || g.Kind == "WatchEvent" || g.Kind == "DeleteOptions" {
					continue
				}
				m.Add(g, meta.RESTScopeNamespace)
			}
		}
	}
	return m
}

// declSizes estimates list and map sizes from the schema-derived type, as the API server's DeclTypes carry
// them (maxItems, or what fits in the maximum request size). With items > 0, no list, map or value the schema
// cannot type (a dyn() value, an element of one) is estimated larger than items, and no typed string larger
// than chars.
type declSizes struct {
	roots        map[string]*apiservercel.DeclType
	items, chars uint64
	// constants are the values of the policy's variables that read nothing (parameters spliced in as
	// literals): their lists, maps and strings have the sizes they have.
	constants map[string]any
}

func (s *declSizes) EstimateSize(element checker.AstNode) *checker.SizeEstimate {
	if path := element.Path(); len(path) >= 2 && path[0] == "variables" {
		if v, ok := s.constants[path[1]]; ok {
			if n, ok := constantSize(v, path[2:]); ok {
				return &checker.SizeEstimate{Min: 0, Max: n}
			}
		}
	}
	est := s.schemaSize(element)
	if s.items == 0 {
		return est
	}
	n := s.items
	switch element.Type().Kind() {
	case types.StringKind, types.BytesKind:
		n = s.chars
	}
	if est == nil || est.Max > n {
		return &checker.SizeEstimate{Min: 0, Max: n}
	}
	return est
}

// constantSize is the largest size (list or map entries, string bytes) of what path selects in v: a field
// name selects a map entry, @items/@values every element or value, @keys every key.
func constantSize(v any, path []string) (uint64, bool) {
	if len(path) == 0 {
		switch x := v.(type) {
		case []any:
			return uint64(len(x)), true
		case map[string]any:
			return uint64(len(x)), true
		case string:
			return uint64(len(x)), true
		}
		return 0, false
	}
	var largest uint64
	found := false
	each := func(e any) {
		if n, ok := constantSize(e, path[1:]); ok {
			found = true
			largest = max(largest, n)
		}
	}
	switch x := v.(type) {
	case []any:
		if path[0] != "@items" {
			return 0, false
		}
		for _, e := range x {
			each(e)
		}
		return largest, found || len(x) == 0
	case map[string]any:
		switch path[0] {
		case "@values":
			for _, e := range x {
				each(e)
			}
			return largest, found || len(x) == 0
		case "@keys":
			for k := range x {
				each(k)
			}
			return largest, found || len(x) == 0
		}
		if e, ok := x[path[0]]; ok {
			each(e)
			return largest, found
		}
	}
	return 0, false
}

// constantVariables evaluates the variables that compile in the base environment, i.e. read no object,
// request, params or other variable: the parameters kubeharden writes into a policy as CEL literals.
func constantVariables(vars []admissionv1.Variable, ver *utilversion.Version) map[string]any {
	out := map[string]any{}
	env, err := environment.MustBaseEnvSet(ver).Env(environment.StoredExpressions)
	if err != nil {
		return out
	}
	for _, v := range vars {
		ast, iss := env.Compile(v.Expression)
		if iss.Err() != nil {
			continue
		}
		prg, err := env.Program(ast)
		if err != nil {
			continue
		}
		val, _, err := prg.Eval(celgo.NoVars())
		if err != nil {
			continue
		}
		native, err := val.ConvertToNative(reflect.TypeOf(&structpb.Value{}))
		if err != nil {
			continue
		}
		out[v.Name] = native.(*structpb.Value).AsInterface()
	}
	return out
}

func (s *declSizes) schemaSize(element checker.AstNode) *checker.SizeEstimate {
	path := element.Path()
	if len(path) == 0 {
		return nil
	}
	t, ok := s.roots[path[0]]
	if !ok || t == nil {
		return nil
	}
	for _, seg := range path[1:] {
		switch {
		case seg == "@items" || seg == "@values":
			t = t.ElemType
		case seg == "@keys":
			t = t.KeyType
		default:
			f, ok := t.Fields[seg]
			if !ok {
				return nil
			}
			t = f.Type
		}
		if t == nil {
			return nil
		}
	}
	if t.MaxElements <= 0 {
		return nil
	}
	return &checker.SizeEstimate{Min: 0, Max: uint64(t.MaxElements)}
}

func (s *declSizes) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	return nil
}

// typedEnv is the TypeChecker's environment (validating.buildEnvSet, unexported) with object, oldObject
// and params typed, extended with the policy's variables through the composition compiler.
func typedEnv(ver *utilversion.Version, object, params *apiservercel.DeclType, hasParams bool, vars []admissionv1.Variable) (*celgo.Env, error) {
	baseEnv := environment.MustBaseEnvSet(ver)
	requestType := plugincel.BuildRequestType()
	namespaceType := plugincel.BuildNamespaceType()
	declTypes := []*apiservercel.DeclType{namespaceType, requestType}
	varOpts := []celgo.EnvOption{celgo.Variable(plugincel.NamespaceVarName, namespaceType.CelType()), celgo.Variable(plugincel.RequestVarName, requestType.CelType())}
	objType := celgo.DynType
	if object != nil {
		declTypes = append(declTypes, object)
		objType = object.CelType()
	}
	varOpts = append(varOpts, celgo.Variable(plugincel.ObjectVarName, objType), celgo.Variable(plugincel.OldObjectVarName, objType))
	if hasParams {
		pt := celgo.DynType
		if params != nil {
			declTypes = append(declTypes, params)
			pt = params.CelType()
		}
		varOpts = append(varOpts, celgo.Variable(plugincel.ParamsVarName, pt))
	}
	varOpts = append(varOpts, celgo.Variable("authorizer", library.AuthorizerType))
	envSet, err := baseEnv.Extend(environment.VersionedOptions{IntroducedVersion: utilversion.MajorMinor(1, 0), EnvOptions: varOpts, DeclTypes: declTypes})
	if err != nil {
		return nil, err
	}
	c, err := plugincel.NewCompositedCompilerForTypeChecking(envSet)
	if err != nil {
		return nil, err
	}
	// The compiler of the variables (validating.TypeChecker sets its own, unexported typeCheckingCompiler):
	// without one, the first variable would dereference nil.
	c.Compiler = &typeCheckingCompiler{env: c}
	opts := plugincel.OptionalVariableDeclarations{HasParams: hasParams, HasAuthorizer: true}
	for _, v := range vars {
		c.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, opts, environment.StoredExpressions)
	}
	return c.Env(environment.StoredExpressions)
}

// typeCheckingCompiler is validating's unexported compiler of the same name: it compiles against the
// composited environment (object, oldObject and params typed), does not enforce the output type and builds no
// program; an expression that does not compile gives its error, and the variable's type stays unknown (dyn).
type typeCheckingCompiler struct {
	env *plugincel.CompositedCompiler
}

func (t *typeCheckingCompiler) CompileCELExpression(e plugincel.ExpressionAccessor, _ plugincel.OptionalVariableDeclarations, mode environment.Type) plugincel.CompilationResult {
	env, err := t.env.Env(mode)
	if err != nil {
		return plugincel.CompilationResult{Error: &apiservercel.Error{Type: apiservercel.ErrorTypeInternal, Detail: fmt.Sprintf("fail to build env: %v", err)}, ExpressionAccessor: e}
	}
	ast, issues := env.Compile(e.GetExpression())
	if issues != nil {
		return plugincel.CompilationResult{Error: &apiservercel.Error{Type: apiservercel.ErrorTypeInvalid, Detail: issues.String()}, ExpressionAccessor: e}
	}
	return plugincel.CompilationResult{OutputType: ast.OutputType()}
}

func typecheck(in *input) (*typecheckOutput, error) {
	out := &typecheckOutput{KubernetesVersion: in.KubernetesVersion, PerCallLimit: celconfig.PerCallLimit, RuntimeBudget: celconfig.RuntimeCELCostBudget, Policies: []policyTypecheck{}, Errors: []string{}}
	minor := 0
	if m := strings.TrimPrefix(in.KubernetesVersion, "1."); m != in.KubernetesVersion {
		minor, _ = strconv.Atoi(m)
	}
	if minor <= 0 {
		return nil, fmt.Errorf("kubernetesVersion must be 1.NN, got %q", in.KubernetesVersion)
	}
	ver := utilversion.MajorMinor(1, uint(minor))
	res := &documentResolver{docs: map[string]map[string]*spec.Schema{}}
	for path, raw := range in.Schemas {
		var doc struct {
			Components struct {
				Schemas map[string]*spec.Schema `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("schemas[%s]: %w", path, err)
		}
		res.docs[strings.TrimPrefix(path, "/openapi/v3/")] = doc.Components.Schemas
	}
	tc := &validating.TypeChecker{SchemaResolver: res, RestMapper: res.restMapper()}
	policies := decodeObjects[admissionv1.ValidatingAdmissionPolicy](in.Policies, "policies", &out.Errors)
	sort.Slice(policies, func(i, j int) bool { return policies[i].Name < policies[j].Name })
	// Policies are checked concurrently (one worker per CPU); the output keeps their sorted order.
	results := make([]policyTypecheck, len(policies))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < goruntime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = typecheckPolicy(policies[i], tc, res, ver, in)
			}
		}()
	}
	for i := range policies {
		next <- i
	}
	close(next)
	wg.Wait()
	out.Policies = append(out.Policies, results...)
	return out, nil
}

// typecheckPolicy is one policy's type check: the TypeChecker's warnings, what an API server of ver refuses,
// what does not compile for a matched kind, and the cost estimates.
func typecheckPolicy(p *admissionv1.ValidatingAdmissionPolicy, tc *validating.TypeChecker, res *documentResolver, ver *utilversion.Version, in *input) policyTypecheck {
	setDefaultsPolicy(p)
	pt := policyTypecheck{Name: p.Name, Kinds: []string{}, Warnings: []expressionWarning{}, CompileErrors: []expressionWarning{}, Costs: []expressionCost{}}
	for _, w := range tc.Check(p) {
		pt.Warnings = append(pt.Warnings, expressionWarning{FieldRef: w.FieldRef, Warning: strings.TrimSpace(w.Warning)})
	}
	pt.RejectedOnCreate = compileErrors(p, environment.MustBaseEnvSet(ver), environment.NewExpressions)
	if pt.RejectedOnCreate == nil {
		pt.RejectedOnCreate = []string{}
	}
	// The kinds the policy matches, resolved as the TypeChecker does (explicit resource rules).
	var kinds []schema.GroupVersionKind
	if mc := p.Spec.MatchConstraints; mc != nil {
		seen := map[schema.GroupVersionKind]bool{}
		for _, r := range mc.ResourceRules {
			for _, g := range r.APIGroups {
				for _, v := range r.APIVersions {
					for _, rs := range r.Resources {
						if g == "*" || v == "*" || strings.Contains(rs, "*") || strings.Contains(rs, "/") {
							continue
						}
						found, err := tc.RestMapper.KindsFor(schema.GroupVersionResource{Group: g, Version: v, Resource: rs})
						if err != nil {
							continue
						}
						for _, k := range found {
							if !seen[k] {
								seen[k] = true
								kinds = append(kinds, k)
							}
						}
					}
				}
			}
		}
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].String() < kinds[j].String() })
	var paramDecl *apiservercel.DeclType
	if pk := p.Spec.ParamKind; pk != nil {
		if gv, err := schema.ParseGroupVersion(pk.APIVersion); err == nil {
			if s, err := res.ResolveSchema(gv.WithKind(pk.Kind)); err == nil {
				paramDecl = common.SchemaDeclType(&openapi.Schema{Schema: s}, true)
			}
		}
	}
	type target struct {
		kind string
		decl *apiservercel.DeclType
	}
	targets := []target{}
	for _, k := range kinds {
		s, err := res.ResolveSchema(k)
		if err != nil {
			continue
		}
		d := common.SchemaDeclType(&openapi.Schema{Schema: s}, true)
		if d == nil {
			continue
		}
		pt.Kinds = append(pt.Kinds, k.Kind)
		targets = append(targets, target{k.Kind, d.MaybeAssignTypeName(k.Kind + "Object")})
	}
	if len(targets) == 0 {
		targets = append(targets, target{"", nil})
	}
	type expr struct{ ref, text string }
	var exprs []expr
	for i, v := range p.Spec.Variables {
		exprs = append(exprs, expr{fmt.Sprintf("spec.variables[%d].expression", i), v.Expression})
	}
	for i, m := range p.Spec.MatchConditions {
		exprs = append(exprs, expr{fmt.Sprintf("spec.matchConditions[%d].expression", i), m.Expression})
	}
	for i, v := range p.Spec.Validations {
		exprs = append(exprs, expr{fmt.Sprintf("spec.validations[%d].expression", i), v.Expression})
		if v.MessageExpression != "" {
			exprs = append(exprs, expr{fmt.Sprintf("spec.validations[%d].messageExpression", i), v.MessageExpression})
		}
	}
	for i, a := range p.Spec.AuditAnnotations {
		exprs = append(exprs, expr{fmt.Sprintf("spec.auditAnnotations[%d].valueExpression", i), a.ValueExpression})
	}
	// One typed environment per target kind (object typed, variables compiled), shared by every expression.
	type typedTarget struct {
		env *celgo.Env
		err error
	}
	envs := make([]typedTarget, len(targets))
	for ti, t := range targets {
		envs[ti].env, envs[ti].err = typedEnv(environment.DefaultCompatibilityVersion(), t.decl, paramDecl, p.Spec.ParamKind != nil, p.Spec.Variables)
	}
	constants := constantVariables(p.Spec.Variables, environment.DefaultCompatibilityVersion())
	var total uint64
	add := func(a, b uint64) uint64 {
		if a > math.MaxUint64-b {
			return math.MaxUint64
		}
		return a + b
	}
	pt.AssumedTotals = make([]uint64, len(in.AssumedItems))
	for _, e := range exprs {
		worst := expressionCost{FieldRef: e.ref}
		assumed := make([]uint64, len(in.AssumedItems))
		for ti, t := range targets {
			c := expressionCost{FieldRef: e.ref, Kind: t.kind}
			env, err := envs[ti].env, envs[ti].err
			if err != nil {
				c.Error = err.Error()
			} else if ast, iss := env.Compile(e.text); iss.Err() != nil {
				c.Error = iss.Err().Error()
			} else {
				roots := map[string]*apiservercel.DeclType{plugincel.ObjectVarName: t.decl, plugincel.OldObjectVarName: t.decl}
				if paramDecl != nil {
					roots[plugincel.ParamsVarName] = paramDecl
				}
				est, err := env.EstimateCost(ast, &library.CostEstimator{SizeEstimator: &declSizes{roots: roots, constants: constants}})
				if err != nil {
					c.Error = err.Error()
				} else {
					c.Min, c.Max = est.Min, est.Max
				}
				for i, n := range in.AssumedItems {
					if est, err := env.EstimateCost(ast, &library.CostEstimator{SizeEstimator: &declSizes{roots: roots, items: n, chars: in.AssumedChars, constants: constants}}); err == nil {
						assumed[i] = max(assumed[i], est.Max)
					} else if c.Error == "" {
						c.Error = err.Error()
					}
				}
			}
			if c.Error != "" {
				pt.CompileErrors = append(pt.CompileErrors, expressionWarning{FieldRef: e.ref, Warning: t.kind + ": " + strings.TrimSpace(c.Error)})
			}
			// The worst estimate of the kinds the expression compiles for; an error only when none does.
			if ti == 0 || (worst.Error != "" && c.Error == "") || (c.Error == "" && c.Max > worst.Max) {
				worst = c
			}
		}
		worst.ExceedsPerCallLimit = worst.Max > celconfig.PerCallLimit
		worst.Assumed = assumed
		total = add(total, worst.Max)
		for i, a := range assumed {
			pt.AssumedTotals[i] = add(pt.AssumedTotals[i], a)
		}
		pt.Costs = append(pt.Costs, worst)
	}
	pt.MaxTotal = total
	pt.ExceedsRuntimeBudget = total > celconfig.RuntimeCELCostBudget
	return pt
}

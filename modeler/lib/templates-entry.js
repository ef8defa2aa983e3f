// Browser entry of the element-template check, bundled with esbuild by template-check.js:
// the bpmn-js modeler with the properties panel, Camunda 7's moddle extension and the
// Camunda 7 element templates module, as Camunda Modeler's Camunda 7 editor has them.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import { ElementTemplatesPropertiesProviderModule } from 'bpmn-js-element-templates';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';

window.createSopflowModeler = () => new BpmnModeler({
  container: '#canvas',
  propertiesPanel: { parent: '#panel' },
  additionalModules: [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule,
    ElementTemplatesPropertiesProviderModule,
  ],
  moddleExtensions: { camunda: camundaModdle },
});
